"""Middleware for requests whose body Django cannot read."""

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest


class UnreadableFormMiddleware:
    """Answer 400 to a form post whose body Django refuses to decode.

    Django refuses form-encoded bodies in any charset but UTF-8 with
    ``BadRequest``, but leaves the body unparsed, so the CSRF check of its
    own 400 view reads it again and fails the same way: a 500 and hundreds
    of lines of tracebacks for every such request. Reading the body here,
    before the CSRF middleware, turns that into one short 400.
    """

    # TODO: remove when Django marks the body unreadable before raising
    # BadRequest for a non-UTF-8 form post (django/http/request.py).

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            try:
                request.POST  # noqa: B018 (parsed here for its error)
            except BadRequest:
                request._mark_post_parse_error()
                return HttpResponseBadRequest(
                    b"The form data could not be read: send it as UTF-8.",
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)
