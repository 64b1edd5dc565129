"""The once-a-day rule for auto-replies.

An auto-reply goes to whatever address a stranger typed, so the form could
otherwise mail one address as often as someone posts. Each address gets at
most one auto-reply a day: the rows show what was sent, and a key in Redis
reserves the address for the day so that two workers sending messages from
the same address at the same moment cannot both reply.
"""

import hashlib
import logging
from datetime import timedelta

from django.utils import timezone
from redis.exceptions import RedisError
from rq import get_current_job

from . import queue
from .models import ContactMessage

logger = logging.getLogger(__name__)

WINDOW = timedelta(days=1)
ALREADY_REPLIED = "an auto-reply went to this address less than a day ago"


def reason_to_skip(message: ContactMessage) -> str:
    """Return why ``message`` gets no auto-reply, or "" if it may have one.

    A message may have one when no other message from the same address
    (ignoring case) got one in the last day. A retry of the same message is
    never refused by its own reservation. A message that carries
    ``replied_recently`` (the worker's claim reads it with the row) is not
    looked up again, unless Redis cannot settle a race: the answer is then as
    old as the owner's email exchange, during which another worker may have
    replied.
    """
    carried = getattr(message, "replied_recently", None)
    replied = replied_recently(message) if carried is None else carried
    if replied:
        return ALREADY_REPLIED
    reserved = _reserve(message)
    if reserved is None:
        # Without Redis, the rows alone keep the rule, short of two workers
        # replying at the same moment.
        if carried is not None and replied_recently(message):
            return ALREADY_REPLIED
        return ""
    return "" if reserved else ALREADY_REPLIED


def replied_recently(message: ContactMessage) -> bool:
    """Return True if another message from the address got an auto-reply today."""
    return (
        ContactMessage.objects.filter(
            email__iexact=message.email,
            autoreply_sent_at__gte=timezone.now() - WINDOW,
        )
        .exclude(pk=message.pk)
        .exists()
    )


def status_shown(message: ContactMessage) -> str:
    """Return the auto-reply's state as the visitor's status line tells it.

    A message held as spam reads as a person's message from the same address
    would: an auto-reply on its way, unless an earlier message from there
    arrived within the day, when the rule above would have skipped it. Any
    other wording would tell a bot that it was caught. The wording only shows
    once the status says sent, so no lookup is made before then (as on the
    form's own post).
    """
    if not message.is_spam or message.visitor_status != ContactMessage.Status.SENT:
        return message.autoreply_status
    earlier = ContactMessage.objects.filter(
        email__iexact=message.email,
        created_at__lt=message.created_at,
        created_at__gte=message.created_at - WINDOW,
    ).exists()
    return (
        ContactMessage.EmailStatus.SKIPPED
        if earlier
        else ContactMessage.EmailStatus.PENDING
    )


def _reserve(message: ContactMessage) -> bool | None:
    """Reserve the message's address for its auto-reply; return True if held.

    Returns None when Redis did not answer.

    The key in Redis only settles races between workers: a reservation
    counts while the message holding it exists and its auto-reply is still
    to go or went out. One left by a message whose auto-reply failed or was
    skipped, or by a database that is gone (a fresh database over a Redis
    that kept its keys), is taken over.
    """
    digest = hashlib.sha256(message.email.lower().encode()).hexdigest()
    key = f"contact:autoreply:{digest}"
    owner = message.reference.encode()
    ttl = int(WINDOW.total_seconds())
    # Inside a worker, the job's own connection: no extra client per worker.
    job = get_current_job()
    try:
        redis = job.connection if job is not None else queue.get_redis()
        if redis.set(key, owner, nx=True, ex=ttl):
            return True
        holder = redis.get(key)
        if holder == owner:
            return True
        if holder is not None and _holds(holder.decode(), message.email):
            return False
        # Compare and swap: only one of several workers takes over.
        return redis.set(key, owner, ex=ttl, get=True) == holder
    except RedisError:
        logger.warning(
            "Contact message %s: auto-reply reservation skipped, Redis did not answer",
            message.reference,
            exc_info=True,
        )
        return None


def _holds(reference: str, email: str) -> bool:
    return ContactMessage.objects.filter(
        reference=reference,
        email__iexact=email,
        autoreply_status__in=[
            ContactMessage.EmailStatus.PENDING,
            ContactMessage.EmailStatus.SENT,
        ],
    ).exists()
