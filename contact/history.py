"""The delivery history of a message: one row per try, report or owner's act.

A job writes each email's outcome together with the row it changes (see
contact.jobs); these functions add the rest: tries that failed for a reason
RQ retries, the owner's actions and the email service's reports. The rows
are never changed afterwards, so the admin can show them as they were
written.
"""

from rq import get_current_job

from .models import ContactMessage, DeliveryAttempt

Outcome = DeliveryAttempt.Outcome


def provider_message_id(email) -> str:
    """Return the id the email service gave ``email``, or its Message-ID header.

    django-anymail sets ``anymail_status`` once the service accepts a message;
    Django's SMTP backend has no such id, so the header set when the email was
    built stands in for it.
    """
    status = getattr(email, "anymail_status", None)
    message_id = getattr(status, "message_id", None)
    if isinstance(message_id, set):
        # One id per recipient; every email here has a single recipient.
        message_id = next(iter(sorted(str(m) for m in message_id if m)), None)
    if message_id:
        return str(message_id)[:255]
    return str(email.extra_headers.get("Message-ID", ""))[:255]


def record_failed(
    message: ContactMessage, field: str, error: str, will_retry: bool = False
) -> None:
    """Record a failed try at ``field``'s email, with the server's answer."""
    _add(message, field, Outcome.RETRYING if will_retry else Outcome.FAILED, error)


def record_skipped(message: ContactMessage, field: str, reason: str = "") -> None:
    """Record that ``field``'s email was not sent, and why, for the owner."""
    _add(message, field, Outcome.SKIPPED, reason)


def record_requeued(
    message: ContactMessage, field: str, job_id: str, reason: str = ""
) -> None:
    """Record that the owner queued ``field``'s email again, under ``job_id``."""
    _add(message, field, Outcome.REQUEUED, reason, job_id=job_id)


def record_report(
    message: ContactMessage, field: str, outcome: str, detail: str, message_id: str
) -> None:
    """Record what the email service reported about an email it accepted."""
    _add(message, field, outcome, detail, provider_message_id=message_id, job_id="")


def current_job_id(message: ContactMessage) -> str:
    """Return the id of the job running now, else the one the row points to."""
    job = get_current_job()
    return job.id if job is not None else message.job_id


def _add(
    message: ContactMessage,
    field: str,
    outcome: str,
    error: str = "",
    provider_message_id: str = "",
    job_id: str | None = None,
) -> None:
    DeliveryAttempt.objects.create(
        message_id=message.pk,
        email=field,
        outcome=outcome,
        error=error or "",
        job_id=current_job_id(message) if job_id is None else job_id,
        provider_message_id=provider_message_id,
    )
