"""Rate limits against a real Redis, and the form when that Redis fails."""

import logging
import time

import pytest
from redis import Redis

from contact import queue
from contact.models import ContactMessage

from .services import Tarpit, Visitor

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def fields(i: int) -> dict:
    return {
        "name": f"Visitor {i}",
        "email": f"visitor{i}@example.com",
        "subject": "Hello",
        "message": "A message.",
    }


@pytest.fixture
def limits_on(settings):
    """Count in the Redis at ``url`` with small limits; return a setter."""

    def point_at(url: str) -> None:
        settings.REDIS_URL = url
        settings.CACHES = {
            **settings.CACHES,
            "ratelimit": {
                **settings.CACHES["ratelimit"],
                "LOCATION": url,
                "OPTIONS": {
                    key: value
                    for key, value in settings.CACHES["ratelimit"]["OPTIONS"].items()
                    if key != "connection_class"
                },
            },
        }
        settings.CONTACT_RATE_LIMIT_PER_IP = "3/m"
        settings.CONTACT_RATE_LIMIT_PER_EMAIL = "2/h"
        queue.get_redis.cache_clear()
        queue.get_queue.cache_clear()

    yield point_at
    queue.get_redis.cache_clear()
    queue.get_queue.cache_clear()


@pytest.fixture
def warnings_of_the_rate_limits():
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("contact.ratelimit")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_limits_count_in_redis_and_refuse_with_429(
    live_server, redis_server, limits_on
):
    limits_on(redis_server.url)
    Redis.from_url(redis_server.url).flushdb()
    visitor = Visitor(live_server.url)

    codes = [visitor.submit(fields(i))[0] for i in range(4)]
    another_browser = Visitor(live_server.url)

    assert codes == [200, 200, 200, 429]
    assert ContactMessage.objects.count() == 3
    assert Redis.from_url(redis_server.url).keys("contact:*rl:*")
    assert another_browser.submit(fields(9))[0] == 429  # the same address


def test_a_stopped_redis_lets_the_post_through_with_a_warning(
    live_server, redis_server, limits_on, warnings_of_the_rate_limits
):
    limits_on(redis_server.url)
    visitor = Visitor(live_server.url)
    visitor.csrf_token()
    redis_server.stop()
    try:
        started = time.monotonic()
        code, fragment = visitor.submit(fields(1))
        took = time.monotonic() - started
    finally:
        redis_server.start()

    assert code == 200, fragment
    assert 'data-status="queued"' in fragment
    assert ContactMessage.objects.get().status == ContactMessage.Status.QUEUED
    assert [r.getMessage() for r in warnings_of_the_rate_limits] == [
        "Rate limits: Redis did not answer, the post goes through"
    ]
    assert took < 2


def test_a_hanging_redis_costs_the_visitor_under_two_seconds(
    live_server, limits_on, warnings_of_the_rate_limits
):
    tarpit = Tarpit()
    limits_on(f"redis://127.0.0.1:{tarpit.port}/0")
    visitor = Visitor(live_server.url)
    visitor.csrf_token()

    started = time.monotonic()
    code, fragment = visitor.submit(fields(1))
    took = time.monotonic() - started
    tarpit.stop()

    assert code == 200, fragment
    assert 'data-status="queued"' in fragment
    assert ContactMessage.objects.count() == 1
    assert len(warnings_of_the_rate_limits) == 1
    # One 0.5 s timeout for the counters; the enqueue then leaves Redis alone.
    assert took < 1.5
