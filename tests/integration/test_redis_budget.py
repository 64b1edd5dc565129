"""How many Redis connections the Procfile's processes hold under traffic."""

import collections

import psutil
import pytest

from devtools.embedded_redis import free_port

from .services import Visitor, status_url_in, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def connections_by_process(redis_client, processes) -> collections.Counter:
    """Count Redis clients per Procfile process, by matching their local ports."""
    owner_of = {}
    for name, process in processes.items():
        root = psutil.Process(process.process.pid)
        for member in [root, *root.children(recursive=True)]:
            for conn in member.net_connections(kind="tcp"):
                owner_of[conn.laddr.port] = name
    counts = collections.Counter()
    for client in redis_client.client_list():
        port = int(client["addr"].rsplit(":", 1)[1])
        counts[owner_of.get(port, "other")] += 1
    return counts


def test_procfile_processes_stay_within_a_small_redis_plan(fake_redis, start_process):
    port = free_port()
    # The rate limits on, so their cache's connections are counted too.
    web = start_process(
        "web",
        PORT=port,
        WEB_CONCURRENCY=2,
        ALLOWED_HOSTS="127.0.0.1",
        CONTACT_RATE_LIMIT_PER_IP="1000/m",
        CONTACT_RATE_LIMIT_PER_EMAIL="1000/m",
    )
    worker = start_process("worker")
    sweeper = start_process("sweeper", CONTACT_SWEEP_SECONDS=0.5)
    visitor = Visitor(f"http://127.0.0.1:{port}")
    assert wait_until(lambda: visitor.answers(), 30), web.log()

    urls = []
    for i in range(20):
        code, fragment = visitor.submit(
            {
                "name": f"V {i}",
                "email": f"v{i}@example.com",
                "subject": "Hi",
                "message": "Hello",
            }
        )
        assert code == 200, fragment
        urls.append(status_url_in(fragment))
    assert wait_until(lambda: all(visitor.status(u) == "sent" for u in urls), 30)

    counts = connections_by_process(
        fake_redis, {"web": web, "worker": worker, "sweeper": sweeper}
    )
    print(f"Redis connections by process: {dict(counts)}")
    # Per gunicorn worker: one pooled client for the queue, one for the cache.
    assert counts["web"] <= 2 * 2
    assert counts["worker"] <= 3
    assert counts["sweeper"] <= 1
    assert counts["web"] + counts["worker"] + counts["sweeper"] <= 8
