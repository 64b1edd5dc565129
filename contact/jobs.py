"""RQ jobs: plain functions that take a message's id and reload the row.

Delivery promises each email at most once: a worker claims the row with a short
lease (one atomic UPDATE), skips any email the row already records as accepted,
and records each acceptance the moment the SMTP server confirms it. A job only
ever ends its own lease: if it outlived the lease and another worker took the
message over, that worker's lease stands. Transient failures are raised so RQ
retries them with backoff; permanent ones are written to the row and end the
job quietly.
"""

import logging
import smtplib
from datetime import timedelta

from anymail.exceptions import (
    AnymailAPIError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from rq import get_current_job

from . import autoreply, emails, history, mailer, queue
from .models import ContactMessage, DeliveryAttempt, make_job_id

logger = logging.getLogger(__name__)

Status = ContactMessage.Status
EmailStatus = ContactMessage.EmailStatus
Outcome = DeliveryAttempt.Outcome


class PermanentDeliveryError(Exception):
    """An email that retrying cannot deliver, such as an unknown recipient."""


def deliver_message(message_id: int) -> None:
    """Send the owner notification, then the auto-reply, for one message.

    Does nothing when another worker holds the message or both emails are
    already settled, so running it twice is always safe. Raises on a transient
    failure so that RQ retries; on the last try the unsent emails are marked
    failed before the exception propagates.
    """
    message = _claim(message_id)
    if message is None:
        logger.info(
            "Contact message #%s (job %s): nothing to send here",
            message_id,
            getattr(get_current_job(), "id", None),
        )
        return

    job = get_current_job()
    last_try = job is None or not job.retries_left
    try:
        # One connection carries both emails, and the next message's too.
        with mailer.connection() as connection:
            if message.owner_email_status == EmailStatus.PENDING:
                owner_email = emails.owner_notification(message)
                _send(message, "owner_email", owner_email, connection)
            if message.autoreply_status == EmailStatus.PENDING:
                if reason := autoreply.reason_to_skip(message):
                    _skip(message, "autoreply", reason)
                else:
                    reply = emails.autoreply(message)
                    _send(message, "autoreply", reply, connection)
    except PermanentDeliveryError:
        pass
    except Exception as error:
        if not _is_permanent(error):
            _give_up_or_release(message, error, last_try)
            raise
        # A permanent refusal before any email was handed over, such as a
        # rejected login (535), fails the email that was next in line.
        pending = (
            "owner_email"
            if message.owner_email_status == EmailStatus.PENDING
            else "autoreply"
        )
        _record(message, pending, EmailStatus.FAILED, error)
    if message.lease_until is not None:
        _release(message)


def requeue_stalled(grace_seconds: int = 10) -> int:
    """Enqueue again every unfinished message that no job will deliver.

    A message qualifies when its lease ran out (its worker died) or when it has
    no lease and its job is gone or finished (the enqueue failed while Redis was
    down, or RQ dropped the job). Messages younger than ``grace_seconds`` are
    left to the enqueue that follows their commit. Returns how many it queued.
    """
    now = timezone.now()
    candidates = (
        ContactMessage.objects.unfinished()
        .unleased(now)
        .filter(created_at__lt=now - timedelta(seconds=grace_seconds))
        .only("pk", "reference", "job_id", "lease_until")
    )
    requeued = 0
    for message in candidates:
        if message.lease_until is None and queue.job_is_live(message.job_id):
            continue
        job_id = make_job_id()
        # Ending a lease that ran out lets the next sweep see the new job as
        # live instead of queueing yet another. A worker that claimed the
        # message meanwhile changed its lease, and is left alone.
        taken = ContactMessage.objects.filter(
            pk=message.pk, job_id=message.job_id, lease_until=message.lease_until
        ).update(job_id=job_id, lease_until=None)
        if taken and queue.enqueue_delivery(message.pk, job_id, message.reference):
            requeued += 1
            logger.info(
                "Contact message %s (job %s): requeued by the sweeper",
                message.reference,
                job_id,
            )
    return requeued


def lease_seconds() -> float:
    """Return how long a claim holds a message.

    A job may run for ``CONTACT_LEASE_SECONDS`` (its RQ timeout); the lease
    lasts a tenth longer, at least a second, so a job stopped by its timeout
    records the failure before another worker may take the message.
    """
    lease = settings.CONTACT_LEASE_SECONDS
    return lease + max(1.0, lease / 10)


# The worker's busiest statement claims the row and reads it back in one round
# trip. The ORM has no UPDATE ... RETURNING, and building its two queries cost
# the worker more time than the database took to run them. The conditions are
# those of ContactMessageQuerySet.unfinished() and .unleased(), and the extra
# column answers the auto-reply rule's question (autoreply.replied_recently);
# tests hold each to the same answers as the ORM's. PostgreSQL and SQLite
# (3.35 and later) both run it.
CLAIM = """
    UPDATE contact_contactmessage
    SET status = CASE WHEN status = %(queued)s THEN %(sending)s ELSE status END,
        lease_until = %(lease_until)s,
        attempts = attempts + 1
    WHERE id = %(id)s
        AND NOT is_spam
        AND (status IN (%(queued)s, %(sending)s)
            OR (status = %(sent)s AND autoreply_status = %(pending)s))
        AND (lease_until IS NULL OR lease_until < %(now)s)
    RETURNING *, EXISTS (
        SELECT 1 FROM contact_contactmessage AS other
        WHERE UPPER(other.email) = UPPER(contact_contactmessage.email)
            AND other.autoreply_sent_at >= %(replied_since)s
            AND other.id <> contact_contactmessage.id
    ) AS replied_recently
"""


def _claim(message_id: int) -> ContactMessage | None:
    """Take a lease on the message if it is unfinished and free; return it.

    The message comes with ``replied_recently`` set, for the auto-reply rule.
    """
    now = timezone.now()
    moment = connection.ops.adapt_datetimefield_value
    claimed = ContactMessage.objects.raw(
        CLAIM,
        {
            "id": message_id,
            "now": moment(now),
            "lease_until": moment(now + timedelta(seconds=lease_seconds())),
            "replied_since": moment(now - autoreply.WINDOW),
            "queued": Status.QUEUED,
            "sending": Status.SENDING,
            "sent": Status.SENT,
            "pending": EmailStatus.PENDING,
        },
    )
    return next(iter(claimed), None)


def _send(message: ContactMessage, field: str, email, connection) -> None:
    """Send one email and record its fate on the row straight away."""
    try:
        connection.send_messages([email])
    except Exception as error:
        if not _is_permanent(error):
            raise
        _record(message, field, EmailStatus.FAILED, error)
        raise PermanentDeliveryError(str(error)) from error
    if not _record(message, field, EmailStatus.SENT, email=email):
        # The owner deleted the message: its other email is not sent.
        raise PermanentDeliveryError("the message was deleted")


def _record(
    message: ContactMessage, field: str, outcome: str, error=None, email=None
) -> bool:
    """Write one email's outcome to the row and its history in one statement.

    The message's last email also ends the lease in the same UPDATE, which
    spares the job a separate release: every commit waits for the disk.
    Returns False if the message was deleted meanwhile.
    """
    now = timezone.now()
    changes = {f"{field}_status": outcome}
    if outcome == EmailStatus.SENT:
        changes[f"{field}_sent_at"] = now
        changes[f"{field}_message_id"] = history.provider_message_id(email)
        # The row's error is the problem of the moment; the delivery
        # history keeps those of earlier tries.
        changes["last_error"] = ""
        logger.info(
            "Contact message %s (job %s): %s accepted by the server",
            message.reference,
            history.current_job_id(message),
            field,
        )
    else:
        changes["last_error"] = _describe(error)
        logger.error(
            "Contact message %s (job %s): %s failed permanently: %s",
            message.reference,
            history.current_job_id(message),
            field,
            changes["last_error"],
        )

    if field == "owner_email":
        # The visitor's status follows the owner's copy; without it, an
        # acknowledgement would promise something that did not happen.
        changes["status"] = (
            Status.SENT if outcome == EmailStatus.SENT else Status.FAILED
        )
        if outcome == EmailStatus.FAILED:
            changes["autoreply_status"] = EmailStatus.SKIPPED
    _end_lease_when_settled(message, changes)

    entries = [
        (field, Outcome.SENT, "", changes[f"{field}_message_id"])
        if outcome == EmailStatus.SENT
        else (field, Outcome.FAILED, changes["last_error"], "")
    ]
    if changes.get("autoreply_status") == EmailStatus.SKIPPED:
        entries.append(
            ("autoreply", Outcome.SKIPPED, "the owner notification failed", "")
        )

    if not _write_reconnecting(message, changes, entries):
        logger.warning(
            "Contact message %s (job %s): deleted meanwhile, %s outcome not kept",
            message.reference,
            history.current_job_id(message),
            field,
        )
        return False
    return True


def _write_reconnecting(
    message: ContactMessage, changes: dict, entries: list[tuple]
) -> bool:
    """Run ``_write``; if the database connection was lost, reconnect once.

    The SMTP exchange before an outcome is written can outlast the worker's
    connection (a database restart or fail-over, a proxy closing it). Failing
    then would leave an email the server accepted unrecorded, and the retry
    would send it a second time.
    """
    try:
        return _write(message, changes, entries)
    except (InterfaceError, OperationalError):
        # An error of any other kind fails the second try as well.
        logger.warning(
            "Contact message %s (job %s): database connection lost, reconnecting",
            message.reference,
            history.current_job_id(message),
        )
        connection.close()
        return _write(message, changes, entries)


def _skip(message: ContactMessage, field: str, reason: str) -> None:
    """Record that ``field``'s email will not be sent, and why."""
    changes = {f"{field}_status": EmailStatus.SKIPPED}
    _end_lease_when_settled(message, changes)
    _write(message, changes, [(field, Outcome.SKIPPED, reason, "")])
    logger.info(
        "Contact message %s (job %s): %s skipped, %s",
        message.reference,
        history.current_job_id(message),
        field,
        reason,
    )


def _end_lease_when_settled(message: ContactMessage, changes: dict) -> None:
    """Add the end of the lease to ``changes`` if no email is left to send."""
    if EmailStatus.PENDING not in (
        changes.get("owner_email_status", message.owner_email_status),
        changes.get("autoreply_status", message.autoreply_status),
    ):
        changes["lease_until"] = None


def _write(message: ContactMessage, changes: dict, entries: list[tuple]) -> bool:
    """Apply ``changes`` to the row and add ``entries`` to its history at once.

    Each entry is (email, outcome, error, provider message id). On PostgreSQL
    one statement does both, so the worker waits for one round trip instead
    of four (BEGIN, UPDATE, INSERT, COMMIT) after every email; SQLite, which
    cannot UPDATE inside WITH, runs the two in one transaction. Ending the
    lease only ends it if the lease is still the one this job took. The
    changes are then set on ``message`` too. Returns False, and writes
    nothing, if the row is gone (the owner deleted it in the admin meanwhile).
    """
    assignments, params = [], []
    for name, value in changes.items():
        field = ContactMessage._meta.get_field(name)
        column = connection.ops.quote_name(field.column)
        if name == "lease_until":
            assignments.append(
                f"{column} = CASE WHEN {column} = %s THEN NULL ELSE {column} END"
            )
            value = message.lease_until
        else:
            assignments.append(f"{column} = %s")
        params.append(field.get_db_prep_save(value, connection))
    update = f"UPDATE contact_contactmessage SET {', '.join(assignments)} WHERE id = %s"
    params.append(message.pk)

    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    added = [created_at, history.current_job_id(message)]
    for entry in entries:
        added += entry
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(entries))
    insert = (
        "INSERT INTO contact_deliveryattempt (message_id, created_at, job_id, "
        "email, outcome, error, provider_message_id) "
        f"SELECT source.id, %s, %s, entry.* FROM {{source}}, (VALUES {rows}) AS entry"
    )
    if not _update_and_insert(update, params, insert, added, message.pk):
        return False
    for name, value in changes.items():
        setattr(message, name, value)
    return True


def _update_and_insert(update, params, insert, added, message_id) -> bool:
    """Run ``_write``'s UPDATE and INSERT; return False if no row was updated."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            updated = f"WITH updated AS ({update} RETURNING id) "
            sql = updated + insert.format(source="updated AS source")
            cursor.execute(sql, params + added)
            return cursor.rowcount > 0
        with transaction.atomic():
            cursor.execute(update, params)
            if not cursor.rowcount:
                return False
            sql = insert.format(source="contact_contactmessage AS source")
            cursor.execute(f"{sql} WHERE source.id = %s", added + [message_id])
            return True


def _give_up_or_release(
    message: ContactMessage, error: Exception, last_try: bool
) -> None:
    held = message.lease_until
    changes = {"lease_until": None, "last_error": _describe(error)}
    failed = (
        "owner_email"
        if message.owner_email_status == EmailStatus.PENDING
        else "autoreply"
    )
    if last_try:
        message.refresh_from_db()
        if message.owner_email_status == EmailStatus.PENDING:
            changes.update(
                status=Status.FAILED,
                owner_email_status=EmailStatus.FAILED,
                autoreply_status=EmailStatus.SKIPPED,
            )
        elif message.autoreply_status == EmailStatus.PENDING:
            changes["autoreply_status"] = EmailStatus.FAILED
        logger.error(
            "Contact message %s (job %s): delivery failed, no retries left",
            message.reference,
            history.current_job_id(message),
            exc_info=error,
        )
    else:
        logger.warning(
            "Contact message %s (job %s): delivery failed, will retry: %s",
            message.reference,
            history.current_job_id(message),
            changes["last_error"],
        )
    updated = ContactMessage.objects.filter(pk=message.pk, lease_until=held).update(
        **changes
    )
    if not updated:
        # This job outlived its lease and another worker holds the message
        # now: the row is that worker's to write.
        logger.warning(
            "Contact message %s (job %s): lease lost to another worker",
            message.reference,
            history.current_job_id(message),
        )
    history.record_failed(
        message, failed, changes["last_error"], will_retry=not last_try
    )


def _release(message: ContactMessage) -> None:
    ContactMessage.objects.filter(
        pk=message.pk, lease_until=message.lease_until
    ).update(lease_until=None)


def _is_permanent(error: Exception) -> bool:
    """Return True for errors that retrying cannot change.

    Those are SMTP replies in the 5xx range, an email service's refusals,
    and a ValueError (an address Django cannot put in a header, such as a
    domain without an ASCII form), which the same row raises every time.
    """
    if isinstance(error, ValueError):
        return True
    if isinstance(error, AnymailRecipientsRefused | AnymailInvalidAddress):
        return True
    if isinstance(error, AnymailAPIError) and error.status_code:
        # An email service's API refuses a bad key or address with a 4xx;
        # 408 and 429 ask the caller to come back later.
        return 400 <= error.status_code < 500 and error.status_code not in (408, 429)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:1000]
