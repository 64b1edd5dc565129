import secrets
import uuid
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Now, Upper
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Crockford's base32 without I, L, O and U: easy to read aloud and to type.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 8


def make_reference() -> str:
    """Return a short, random reference a visitor can quote."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def make_token() -> str:
    """Return an unguessable status token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def make_job_id() -> str:
    return f"contact-{uuid.uuid4().hex}"


class ContactMessageQuerySet(models.QuerySet):
    def unfinished(self):
        """Return messages with an email still to attempt.

        Messages held as spam never count: no job sends them, the sweeper
        leaves them alone and the health check does not wait for them.
        """
        return self.filter(
            Q(status__in=[ContactMessage.Status.QUEUED, ContactMessage.Status.SENDING])
            | Q(
                status=ContactMessage.Status.SENT,
                autoreply_status=ContactMessage.EmailStatus.PENDING,
            ),
            is_spam=False,
        )

    def unleased(self, now=None):
        """Return messages no worker holds a live lease on."""
        now = now or timezone.now()
        return self.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))


class ContactMessage(models.Model):
    """A message sent through the contact form, and the fate of its two emails.

    The row is the record of what happened; RQ's job hashes only carry the work
    and may expire or vanish without changing what the visitor or owner sees.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    class EmailStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    class Tracking(models.TextChoices):
        """What the email service reported after it accepted an email."""

        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")
        REJECTED = "rejected", _("Rejected")

    FINAL_STATUSES = (Status.SENT, Status.FAILED)

    # How long a message held as spam reads "queued" to its sender before it
    # reads "sent", as a real message would after its first poll.
    SPAM_SHOWN_QUEUED = timedelta(seconds=1)

    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), max_length=254)
    subject = models.CharField(_("subject"), max_length=150)
    message = models.TextField(_("message"), max_length=5000)

    reference = models.CharField(
        _("reference"), max_length=12, unique=True, default=make_reference
    )
    token = models.CharField(max_length=64, unique=True, default=make_token)
    created_at = models.DateTimeField(_("received"), default=timezone.now)
    # When delivery last began: on arrival, or when the owner asked for an
    # email again. The health check measures waiting from here. The database's
    # own default serves code that predates the column, as a release's
    # migration runs while the previous release still takes messages.
    queued_at = models.DateTimeField(
        _("queued"), default=timezone.now, db_default=Now()
    )

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    owner_email_status = models.CharField(
        _("owner notification"),
        max_length=10,
        choices=EmailStatus.choices,
        default=EmailStatus.PENDING,
    )
    owner_email_sent_at = models.DateTimeField(
        _("owner notification sent"), null=True, blank=True
    )
    autoreply_status = models.CharField(
        _("auto-reply"),
        max_length=10,
        choices=EmailStatus.choices,
        default=EmailStatus.PENDING,
    )
    autoreply_sent_at = models.DateTimeField(
        _("auto-reply sent"), null=True, blank=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # How often the owner asked for an email again. It is part of each
    # email's Message-ID, so a resend is a new email to the mail store rather
    # than a copy it would hide.
    resends = models.PositiveIntegerField(_("resends"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    job_id = models.CharField(max_length=64, default=make_job_id)
    lease_until = models.DateTimeField(null=True, blank=True)

    # The id the email service gave each accepted email (over SMTP, the
    # Message-ID header), so its tracking events find their way back here.
    owner_email_message_id = models.CharField(
        _("owner notification id"), max_length=255, blank=True, db_index=True
    )
    owner_email_tracking = models.CharField(
        _("owner notification tracking"),
        max_length=10,
        choices=Tracking.choices,
        blank=True,
    )
    autoreply_message_id = models.CharField(
        _("auto-reply id"), max_length=255, blank=True, db_index=True
    )
    autoreply_tracking = models.CharField(
        _("auto-reply tracking"),
        max_length=10,
        choices=Tracking.choices,
        blank=True,
    )

    # A message the abuse guards or the owner judged to be spam: kept for
    # review, never emailed until the owner releases it.
    is_spam = models.BooleanField(_("spam"), default=False)
    spam_reason = models.CharField(_("why spam"), max_length=100, blank=True)

    objects = ContactMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The once-a-day auto-reply rule looks up an address's last reply
            # (ignoring case) before every auto-reply; without this it reads
            # the whole table.
            models.Index(
                Upper("email"), "autoreply_sent_at", name="contact_message_replied"
            ),
        ]
        # The form enforces these lengths; the database does too, whatever
        # writes the row. A TextField's max_length alone reaches no database,
        # and SQLite ignores a varchar's length.
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length(field), limit),
                name=f"contact_message_{field}_length",
            )
            for field, limit in (
                ("name", 100),
                ("email", 254),
                ("subject", 150),
                ("message", 5000),
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} from {self.email}"

    def get_absolute_url(self) -> str:
        return reverse("contact:status", args=[self.token])

    @property
    def is_final(self) -> bool:
        if self.is_spam:
            return self.visitor_status == self.Status.SENT
        return self.status in self.FINAL_STATUSES

    @property
    def visitor_status(self) -> str:
        """Return the status to show the visitor, refined by tracking events.

        A sent message becomes "delivered" once the email service reports the
        owner's copy in their inbox, and "failed" if that copy bounced or was
        rejected after all. A message held as spam looks to its sender like
        any other: queued on the confirmation, sent from the first poll on.
        Telling a bot it was caught would only teach it what to change.
        """
        if self.is_spam:
            if timezone.now() - self.created_at < self.SPAM_SHOWN_QUEUED:
                return self.Status.QUEUED
            return self.Status.SENT
        if self.status != self.Status.SENT:
            return self.status
        if self.owner_email_tracking == self.Tracking.DELIVERED:
            return "delivered"
        if self.owner_email_tracking in (self.Tracking.BOUNCED, self.Tracking.REJECTED):
            return self.Status.FAILED
        return self.status

    def polling_expired(self, seconds: int) -> bool:
        """Return True once a visitor has waited long enough to stop polling."""
        return timezone.now() - self.created_at > timedelta(seconds=seconds)


class DeliveryAttempt(models.Model):
    """One try at sending one email of a message, or one report about it.

    The history is append-only: the admin shows it read-only, so the owner can
    see when each email was tried, how it went and what the server answered.
    """

    class Email(models.TextChoices):
        OWNER = "owner_email", _("Owner notification")
        AUTOREPLY = "autoreply", _("Auto-reply")

    class Outcome(models.TextChoices):
        SENT = "sent", _("Accepted by the server")
        RETRYING = "retrying", _("Failed, will retry")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        REQUEUED = "requeued", _("Queued again by the owner")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")
        REJECTED = "rejected", _("Rejected")

    message = models.ForeignKey(
        ContactMessage, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    email = models.CharField(_("email"), max_length=12, choices=Email.choices)
    outcome = models.CharField(_("result"), max_length=10, choices=Outcome.choices)
    error = models.TextField(_("error"), blank=True)
    job_id = models.CharField(_("job"), max_length=64, blank=True)
    provider_message_id = models.CharField(_("message id"), max_length=255, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        # The health check reads the latest outcome of an owner notification.
        indexes = [models.Index(fields=["email", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_email_display()}: {self.get_outcome_display()}"
