import time


def server_timing(get_response):
    """Report the time Django spent on each request in a Server-Timing header.

    The benchmark reads it to tell the server's share of a request's latency
    from the network and the load generator's.
    """

    def middleware(request):
        started = time.perf_counter()
        response = get_response(request)
        elapsed = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f"app;dur={elapsed:.3f}"
        return response

    return middleware
