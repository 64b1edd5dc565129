import pytest
from django.db import connection
from redis import Redis

from contact import queue

from .services import SmtpSink, Worker, service_env

# The machine's own Redis, on a database number the site does not use.
REAL_REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def fake_redis(settings):
    """Replace the suite's fakeredis with the real Redis for these tests."""
    settings.REDIS_URL = REAL_REDIS_URL
    client = Redis.from_url(REAL_REDIS_URL)
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
