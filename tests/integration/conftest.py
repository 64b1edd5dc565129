import pytest
from django.db import connection
from redis import Redis

from contact import queue
from devtools.embedded_redis import RedisServer

from .services import SmtpSink, Worker, service_env


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server of the suite's own, which fault tests may stop."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_redis(settings, redis_server):
    """Replace the suite's fakeredis with the real Redis for these tests."""
    settings.REDIS_URL = redis_server.url
    client = Redis.from_url(redis_server.url)
    client.flushdb()
    queue.get_redis.cache_clear()
    queue.get_queue.cache_clear()
    yield client
    queue.get_redis.cache_clear()
    queue.get_queue.cache_clear()
    client.flushdb()


@pytest.fixture
def smtp():
    sink = SmtpSink()
    yield sink
    sink.stop()


def database_url() -> str:
    """Return a URL for the test database the live server is using."""
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


@pytest.fixture
def start_worker(fake_redis, smtp, settings, tmp_path):
    """Start workers as the Procfile runs them, against this test's services."""
    workers = []

    def start(**env):
        values = {
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "EMAIL_URL": smtp.url,
        }
        values.update(env)
        worker = Worker(service_env(**values), f"worker{len(workers)}", tmp_path)
        workers.append(worker.start())
        return worker

    yield start
    for worker in workers:
        worker.stop()
