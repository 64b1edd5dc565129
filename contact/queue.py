"""The web side of the queue: one pooled Redis connection per process.

django-rq builds a new client, and so a new connection pool, on every
``get_queue()`` call; a site that enqueued through it on each request would open
a Redis connection per request. The queue here is built once per process and
its client fails fast: a Redis that is down or hanging costs the visitor at most
``REDIS_SOCKET_TIMEOUT`` seconds, and the sweeper enqueues the message later.

After such a failure the process leaves Redis alone for ``REDIS_PAUSE_SECONDS``
(see ``redis_paused``): with Redis hanging, each post would otherwise hold a
web worker for a timeout, and visitors posting together would wait in turn.
"""

import functools
import logging
import time
from datetime import timedelta
from functools import partial

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry as RedisRetry
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

logger = logging.getLogger(__name__)

DELIVER_JOB = "contact.jobs.deliver_message"

# Seconds for which a process leaves Redis alone after a request to it failed.
REDIS_PAUSE_SECONDS = 5.0

_redis_failed_at = float("-inf")

# A job in one of these states will still run.
LIVE_JOB_STATUSES = {
    JobStatus.QUEUED,
    JobStatus.STARTED,
    JobStatus.SCHEDULED,
    JobStatus.DEFERRED,
}


def redis_options() -> dict:
    """Return the client options every process uses for ``REDIS_URL``."""
    options = {
        "socket_connect_timeout": settings.REDIS_SOCKET_TIMEOUT,
        "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
        # No silent retries: each would add another timeout to the request.
        "retry": RedisRetry(NoBackoff(), 0),
        "health_check_interval": 30,
    }
    if settings.REDIS_URL.startswith("rediss://"):
        options["ssl_cert_reqs"] = settings.REDIS_SSL_CERT_REQS
    return options


@functools.cache
def get_redis() -> Redis:
    return Redis.from_url(settings.REDIS_URL, **redis_options())


def redis_paused() -> bool:
    """Return True while a recent Redis failure says not to ask it again yet.

    The messages saved meanwhile wait for the sweeper, which enqueues them
    once Redis answers; the rate limits are not counted.
    """
    return time.monotonic() - _redis_failed_at < REDIS_PAUSE_SECONDS


def redis_failed() -> None:
    """Note that Redis just failed a request, pausing this process's use of it."""
    global _redis_failed_at
    _redis_failed_at = time.monotonic()


@functools.cache
def get_queue() -> Queue:
    # Enqueue at once: callers already run after commit (see enqueue_delivery),
    # and a deferred enqueue would escape the error handling below.
    return django_rq.get_queue("default", connection=get_redis(), commit_mode="auto")


def enqueue_delivery(message_id: int, job_id: str, reference: str = "") -> bool:
    """Enqueue delivery of a saved message; return False if Redis is unreachable.

    ``reference`` only names the message in the logs.

    Call it only for a committed row (from ``transaction.on_commit``), so the
    worker never looks for a message that does not exist yet. A failure is
    logged and swallowed: the row stays queued and the sweeper retries it.
    """
    name = reference or f"#{message_id}"
    if redis_paused():
        logger.warning(
            "Contact message %s (job %s): Redis failed moments ago, "
            "left for the sweeper",
            name,
            job_id,
        )
        return False
    intervals = settings.CONTACT_RETRY_INTERVALS
    try:
        get_queue().enqueue(
            DELIVER_JOB,
            message_id,
            job_id=job_id,
            job_timeout=settings.CONTACT_LEASE_SECONDS,
            retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
            # The row records the outcome; a finished job is only kept long
            # enough to look at in the dashboard. Each takes about 5 KiB of
            # Redis memory: kept for an hour at one message a second, they
            # would fill most of a small hosted plan. Deleting them at once
            # would cost the worker more Redis commands than keeping them.
            result_ttl=60,
            failure_ttl=7 * 24 * 3600,
        )
    except RedisError:
        redis_failed()
        logger.warning(
            "Contact message %s (job %s): enqueue failed, left for the sweeper",
            name,
            job_id,
            exc_info=True,
        )
        return False
    logger.info("Contact message %s (job %s): queued", name, job_id)
    return True


def enqueue_on_commit(message_id: int, job_id: str, reference: str = "") -> None:
    """Enqueue delivery once the current transaction commits.

    A worker must never look for a row that a rollback would remove, so every
    path that queues a message goes through here rather than enqueueing at
    once; outside a transaction the enqueue happens straight away.
    """
    transaction.on_commit(partial(enqueue_delivery, message_id, job_id, reference))


def job_is_live(job_id: str) -> bool:
    """Return True if RQ still holds a job that will run or is running.

    A job counts as started only within its timeout: a worker killed after
    taking the job but before claiming the message leaves it "started" until
    RQ's own clean-up, which can take minutes. A worker killed even earlier,
    between taking the job off the queue and starting it, leaves it "queued"
    in RQ's intermediate list, in no queue at all: such a job is dead too.
    Raises RedisError when Redis does not answer.
    """
    try:
        job = Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status == JobStatus.STARTED:
        limit = timedelta(seconds=settings.CONTACT_LEASE_SECONDS)
        return job.started_at is not None and timezone.now() - job.started_at < limit
    if status == JobStatus.QUEUED:
        # Requeueing a job a live worker is just starting is harmless: the
        # claim lets only one of the two send.
        return get_queue().get_job_position(job_id) is not None
    return status in LIVE_JOB_STATUSES
