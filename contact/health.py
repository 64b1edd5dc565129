"""``/healthz``: can the site take and deliver messages right now?

Cheap enough to poll every few seconds: two indexed database queries and a
few Redis commands over the process's pooled client, whose short timeouts
bound the answer when Redis hangs. A platform's or monitor's check reads the
HTTP status; people read the JSON.
"""

import logging
import time
from http import HTTPStatus

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Min
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from redis.exceptions import RedisError
from rq import worker_registration

from . import queue
from .models import ContactMessage, DeliveryAttempt

logger = logging.getLogger(__name__)

# When the queue was last seen without a live worker (a Unix time), shared by
# every web process so the grace period runs from the first to notice.
NO_WORKER_SINCE_KEY = "contact:health:no-worker-since"


def check() -> dict:
    """Return the site's health as a dict whose ``ok`` says if it can deliver.

    A worker counts as live while its registration in Redis exists: RQ removes
    it on a warm shutdown, and it expires a few minutes after a worker is
    killed outright. The site is unhealthy when the database or Redis does not
    answer, when no worker has been live for ``HEALTH_NO_WORKER_SECONDS``,
    when a message has waited unsent for ``HEALTH_OLDEST_UNSENT_SECONDS``
    since it was queued (a resend starts the wait again), or
    when the latest owner notification to settle failed for good (a revoked
    password or a refused owner address fails every message, and failed
    messages wait for nothing).
    """
    report = {"database": False, "redis": False, "workers": None}
    report["queue_length"] = None
    report["oldest_unsent_seconds"] = None
    report["last_owner_notification"] = None
    problems = []

    try:
        unfinished = ContactMessage.objects.unfinished()
        oldest = unfinished.aggregate(oldest=Min("queued_at"))["oldest"]
        last = _last_owner_notification()
    except DatabaseError as error:
        # A monitor polls every few seconds: one line each, not a traceback.
        logger.warning("Health: the database did not answer: %s", _one_line(error))
        problems.append("database unreachable")
    else:
        report["database"] = True
        if oldest is not None:
            age = (timezone.now() - oldest).total_seconds()
            report["oldest_unsent_seconds"] = round(age, 1)
            if age > settings.HEALTH_OLDEST_UNSENT_SECONDS:
                problems.append("a message has waited too long")
        report["last_owner_notification"] = last
        if last == DeliveryAttempt.Outcome.FAILED:
            problems.append("the last owner notification failed")

    try:
        workers, length, without_worker = _queue_state()
    except RedisError as error:
        logger.warning("Health: Redis did not answer: %s", _one_line(error))
        problems.append("redis unreachable")
    else:
        report.update(redis=True, workers=workers, queue_length=length)
        if without_worker > settings.HEALTH_NO_WORKER_SECONDS:
            problems.append("no worker")

    report["ok"] = not problems
    report["problems"] = problems
    return report


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report = check()
    status = HTTPStatus.OK if report["ok"] else HTTPStatus.SERVICE_UNAVAILABLE
    return JsonResponse(report, status=status)


def _one_line(error: Exception) -> str:
    # psycopg's messages run over several lines.
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def _last_owner_notification() -> str | None:
    """Return "sent" or "failed": how the latest owner notification ended."""
    return (
        DeliveryAttempt.objects.filter(
            email=DeliveryAttempt.Email.OWNER,
            outcome__in=[DeliveryAttempt.Outcome.SENT, DeliveryAttempt.Outcome.FAILED],
        )
        .order_by("-created_at", "-pk")
        .values_list("outcome", flat=True)
        .first()
    )


def _queue_state() -> tuple[int, int, float]:
    """Return live workers, queue length, and seconds without a live worker."""
    redis = queue.get_redis()
    rq_queue = queue.get_queue()
    keys = sorted(worker_registration.get_keys(queue=rq_queue))
    with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.pttl(key)
        pipe.llen(rq_queue.key)
        *lifetimes, length = pipe.execute()
    # A live worker's key always expires unless its heartbeat renews it. A
    # key without expiry is a ghost: RQ writes the time of a shutdown request
    # to the key even when it already expired, which creates it anew, for
    # good, when a hung worker is finally stopped.
    workers = sum(1 for lifetime in lifetimes if lifetime > 0)

    if workers:
        redis.delete(NO_WORKER_SINCE_KEY)
        return workers, length, 0.0
    now = time.time()
    redis.set(NO_WORKER_SINCE_KEY, now, nx=True, ex=7 * 24 * 3600)
    since = float(redis.get(NO_WORKER_SINCE_KEY) or now)
    return workers, length, max(0.0, now - since)
