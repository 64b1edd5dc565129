"""The owner's verdicts on spam: hold messages back, or release them.

Releasing goes through the queue like any delivery: both emails are marked
pending again, the row gets a fresh job id, and the job is enqueued once the
change is committed. The auto-reply still follows its once-a-day rule.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from . import history, queue
from .models import ContactMessage, make_job_id

logger = logging.getLogger(__name__)

Status = ContactMessage.Status
EmailStatus = ContactMessage.EmailStatus

OWNER_VERDICT = "marked by the owner"

EMAILS = ("owner_email", "autoreply")


@dataclass
class Verdicts:
    marked: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)


def mark_as_spam(messages) -> Verdicts:
    """Hold ``messages`` as spam; return the references marked, and those left.

    An email not yet sent is skipped from now on; one already sent stays on
    the record as it was. A message a worker is sending at this moment is left
    as it is (its references are returned as ``busy``): its worker would
    still send the emails it had read as pending.
    """
    verdicts = Verdicts()
    for message in messages:
        if message.is_spam:
            continue
        skipped = [
            email
            for email in EMAILS
            if getattr(message, f"{email}_status") == EmailStatus.PENDING
        ]
        updated = (
            ContactMessage.objects.filter(pk=message.pk, is_spam=False)
            .unleased()
            .update(
                is_spam=True,
                spam_reason=OWNER_VERDICT,
                # Read again in the UPDATE: an email may have gone out since.
                **{f"{email}_status": _skipped_if_pending(email) for email in EMAILS},
            )
        )
        if not updated:
            verdicts.busy.append(message.reference)
            continue
        for email in skipped:
            history.record_skipped(message, email, "marked as spam")
        verdicts.marked.append(message.reference)
        logger.info(
            "Contact message %s: marked as spam by the owner", message.reference
        )
    return verdicts


def _skipped_if_pending(email: str) -> Case:
    status = f"{email}_status"
    return Case(
        When(**{status: EmailStatus.PENDING}, then=Value(EmailStatus.SKIPPED)),
        default=F(status),
    )


def release(messages) -> list[str]:
    """Release ``messages`` held as spam; return the references released.

    A message whose owner notification never went out is queued for
    delivery; one that was sent before it was marked is only unmarked.
    """
    released = []
    for message in messages:
        if not message.is_spam:
            continue
        changes = {"is_spam": False, "spam_reason": ""}
        deliver = message.owner_email_status == EmailStatus.SKIPPED
        if deliver:
            changes.update(
                status=Status.QUEUED,
                owner_email_status=EmailStatus.PENDING,
                autoreply_status=EmailStatus.PENDING,
                job_id=make_job_id(),
                lease_until=None,
                queued_at=timezone.now(),
            )
        with transaction.atomic():
            updated = ContactMessage.objects.filter(pk=message.pk, is_spam=True).update(
                **changes
            )
            if updated and deliver:
                for email in EMAILS:
                    history.record_requeued(
                        message, email, changes["job_id"], "released from spam"
                    )
                queue.enqueue_on_commit(
                    message.pk, changes["job_id"], message.reference
                )
        if updated:
            released.append(message.reference)
            logger.info(
                "Contact message %s (job %s): released from spam by the owner",
                message.reference,
                changes.get("job_id", message.job_id),
            )
    return released
