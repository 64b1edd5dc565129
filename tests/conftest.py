import fakeredis
import pytest
from django.core.cache import caches

from contact import queue
from devtools.embedded_redis import RedisServer


@pytest.fixture(autouse=True)
def fake_redis(monkeypatch):
    """Give every test a private, empty fakeredis behind ``contact.queue``."""
    server = fakeredis.FakeServer()
    connection = fakeredis.FakeRedis(server=server)
    queue.get_queue.cache_clear()
    monkeypatch.setattr(queue, "_redis_failed_at", float("-inf"))
    monkeypatch.setattr(queue, "get_redis", lambda: connection)
    yield connection
    queue.get_queue.cache_clear()


@pytest.fixture(autouse=True)
def empty_rate_limits():
    """Start every test with no rate-limit counters."""
    caches["ratelimit"].clear()
    yield


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server of the suite's own, which fault tests may stop."""
    server = RedisServer().start()
    yield server
    server.stop()
