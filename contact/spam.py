"""The owner's verdicts on spam: hold messages back, or release them.

Releasing goes through the queue like any delivery: both emails are marked
pending again, the row gets a fresh job id, and the job is enqueued once the
change is committed. The auto-reply still follows its once-a-day rule.
"""

import logging

from django.db import transaction
from django.utils import timezone

from . import history, queue
from .models import ContactMessage, make_job_id

logger = logging.getLogger(__name__)

Status = ContactMessage.Status
EmailStatus = ContactMessage.EmailStatus

OWNER_VERDICT = "marked by the owner"


def mark_as_spam(messages) -> list[str]:
    """Hold ``messages`` as spam; return the references newly marked.

    An email not yet sent is skipped from now on; one already sent stays on
    the record as it was.
    """
    marked = []
    for message in messages:
        if message.is_spam:
            continue
        changes = {"is_spam": True, "spam_reason": OWNER_VERDICT}
        for field in ("owner_email", "autoreply"):
            if getattr(message, f"{field}_status") == EmailStatus.PENDING:
                changes[f"{field}_status"] = EmailStatus.SKIPPED
        ContactMessage.objects.filter(pk=message.pk).update(**changes)
        for field in ("owner_email", "autoreply"):
            if f"{field}_status" in changes:
                history.record_skipped(message, field, "marked as spam")
        marked.append(message.reference)
        logger.info(
            "Contact message %s: marked as spam by the owner", message.reference
        )
    return marked


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
                for field in ("owner_email", "autoreply"):
                    history.record_requeued(
                        message, field, changes["job_id"], "released from spam"
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
