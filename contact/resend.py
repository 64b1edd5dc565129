"""Sending one email of a message again, on the owner's request.

A resend goes through the queue like any delivery: the email is marked pending
again, the row gets a fresh job id, and the job is enqueued once the change is
committed. A message that a worker holds, or whose job is still waiting to
run, is skipped rather than queued twice.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError

from . import history, queue
from .models import ContactMessage, make_job_id

logger = logging.getLogger(__name__)

Status = ContactMessage.Status
EmailStatus = ContactMessage.EmailStatus

EMAILS = ("owner_email", "autoreply")

# More than this per request is refused: each resend is an email to a person.
MAX_RESENDS = 50


@dataclass
class ResendResult:
    queued: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def resend(messages, email: str) -> ResendResult:
    """Queue ``email`` ("owner_email" or "autoreply") again for each message.

    The owner notification can always be sent again; an auto-reply skipped
    because the owner's copy failed is sent with it. An auto-reply alone is
    only sent again once the owner's copy went out. Returns the references
    queued and, for each one skipped, why.
    """
    if email not in EMAILS:
        raise ValueError(f"Unknown email {email!r}")
    result = ResendResult()
    for message in messages:
        reason = _reason_to_skip(message, email)
        if reason:
            result.skipped[message.reference] = reason
        elif _queue_again(message, email):
            result.queued.append(message.reference)
        else:
            result.skipped[message.reference] = "it changed meanwhile"
    return result


def _reason_to_skip(message: ContactMessage, email: str) -> str:
    if message.is_spam:
        # A worker sends nothing for a row held as spam: queued, it would
        # wait for good.
        return "it is held as spam; mark it as not spam to deliver it"
    if message.lease_until and message.lease_until > timezone.now():
        return "a worker is sending it now"
    try:
        if queue.job_is_live(message.job_id):
            return "its delivery job is still waiting to run"
    except RedisError:
        logger.warning("Resend: Redis did not answer", exc_info=True)
        return "the queue does not answer"
    if email == "autoreply" and message.owner_email_status != EmailStatus.SENT:
        return "the owner notification has not been sent"
    return ""


def _queue_again(message: ContactMessage, email: str) -> bool:
    changes = {
        f"{email}_status": EmailStatus.PENDING,
        f"{email}_sent_at": None,
        f"{email}_message_id": "",
        f"{email}_tracking": "",
        "job_id": make_job_id(),
        "resends": F("resends") + 1,
        "queued_at": timezone.now(),
        # The old error stays in the delivery history; on the row it would
        # read as a problem with this new try.
        "last_error": "",
    }
    if email == "owner_email":
        changes["status"] = Status.QUEUED
        if message.autoreply_status == EmailStatus.SKIPPED:
            changes["autoreply_status"] = EmailStatus.PENDING

    with transaction.atomic():
        # The old job id guards against a second resend of the same row racing
        # this one: only the first to change it queues a job.
        updated = ContactMessage.objects.filter(
            pk=message.pk, job_id=message.job_id
        ).update(**changes)
        if updated:
            for field in EMAILS:
                if f"{field}_status" in changes:
                    history.record_requeued(message, field, changes["job_id"])
            queue.enqueue_on_commit(message.pk, changes["job_id"], message.reference)
    if updated:
        logger.info(
            "Contact message %s (job %s): %s queued again by the owner",
            message.reference,
            changes["job_id"],
            email,
        )
    return bool(updated)
