import csv
import re
from datetime import datetime

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from redis.exceptions import RedisError
from rq.job import Job

from . import queue, spam
from .models import ContactMessage, DeliveryAttempt
from .resend import MAX_RESENDS, resend

CSV_FIELDS = [
    "reference",
    "created_at",
    "name",
    "email",
    "subject",
    "message",
    "status",
    "owner_email_status",
    "owner_email_tracking",
    "autoreply_status",
    "autoreply_tracking",
    "attempts",
    "last_error",
    "is_spam",
    "spam_reason",
]

# A spreadsheet runs a cell that starts with one of these as a formula. Where
# the locale's list separator is a semicolon, Excel splits a comma-separated
# file at semicolons, quoted or not, so a cell can also start after one.
FORMULA_START = re.compile(r"(?<![^;\t])(?=[=+\-@\t\r])")


def csv_cell(value) -> str:
    """Return ``value`` as CSV text that no spreadsheet will run as a formula.

    A quote goes before each character that would start a formula, at the
    start of the text and after every semicolon or tab.
    """
    if isinstance(value, datetime):
        value = value.isoformat()
    text = "" if value is None else str(value)
    return FORMULA_START.sub("'", text)


class DeliveryAttemptInline(admin.TabularInline):
    """The message's delivery history, as the jobs and reports wrote it."""

    model = DeliveryAttempt
    fields = ["created_at", "email", "outcome", "error", "provider_message_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class DeliveryFilter(admin.SimpleListFilter):
    """Filter by the status the list shows, with held messages apart.

    A held message keeps the status it had when it was caught, so filtering
    on the status alone would list it among the messages waiting in the queue.
    """

    title = "status"
    parameter_name = "delivery"
    HELD = "held"

    def lookups(self, request, model_admin):
        return [*ContactMessage.Status.choices, (self.HELD, "Held as spam")]

    def queryset(self, request, queryset):
        if self.value() == self.HELD:
            return queryset.filter(is_spam=True)
        if self.value() in ContactMessage.Status.values:
            return queryset.filter(is_spam=False, status=self.value())
        return queryset


@admin.register(ContactMessage)
class ContactMessageAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "created_at",
        "name",
        "email",
        "subject",
        "delivery",
        "notification",
        "autoreply",
    ]
    list_filter = [
        DeliveryFilter,
        "owner_email_status",
        "autoreply_status",
        "owner_email_tracking",
        "autoreply_tracking",
        "created_at",
    ]
    search_fields = ["name", "email", "subject", "message", "reference"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [DeliveryAttemptInline]
    actions = [
        "resend_owner_notification",
        "resend_autoreply",
        "mark_as_spam",
        "release_from_spam",
        "export_csv",
    ]
    # The inbox records what visitors sent: nothing is added or rewritten
    # here, or a resend could mail an address no visitor gave.
    readonly_fields = [
        "name",
        "email",
        "subject",
        "message",
        "reference",
        "created_at",
        "queued_at",
        "delivery",
        "owner_email_status",
        "owner_email_sent_at",
        "owner_email_tracking",
        "owner_email_message_id",
        "autoreply_status",
        "autoreply_sent_at",
        "autoreply_tracking",
        "autoreply_message_id",
        "attempts",
        "resends",
        "last_error",
        "job_id",
        "rq_job",
        "lease_until",
        "is_spam",
        "spam_reason",
    ]
    fieldsets = [
        (None, {"fields": ["name", "email", "subject", "message"]}),
        (
            "Delivery",
            {
                "fields": [
                    "reference",
                    ("created_at", "queued_at"),
                    "delivery",
                    ("owner_email_status", "owner_email_sent_at"),
                    ("owner_email_tracking", "owner_email_message_id"),
                    ("autoreply_status", "autoreply_sent_at"),
                    ("autoreply_tracking", "autoreply_message_id"),
                    ("attempts", "resends"),
                    "last_error",
                    ("job_id", "rq_job"),
                    "lease_until",
                    ("is_spam", "spam_reason"),
                ]
            },
        ),
    ]

    @admin.display(description="status", ordering="status")
    def delivery(self, message: ContactMessage) -> str:
        # A held message keeps the status it had when it was caught, which
        # would read as a delivery stuck in the queue.
        if message.is_spam:
            return "Held as spam"
        return message.get_status_display()

    # Short headings: the list needs every column on a laptop's screen.
    @admin.display(description="notification", ordering="owner_email_status")
    def notification(self, message: ContactMessage) -> str:
        return message.get_owner_email_status_display()

    @admin.display(description="auto-reply", ordering="autoreply_status")
    def autoreply(self, message: ContactMessage) -> str:
        return message.get_autoreply_status_display()

    def has_add_permission(self, request) -> bool:
        # A message comes from the form, through its checks and guards.
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only: a Save button would save nothing.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="RQ job")
    def rq_job(self, message: ContactMessage) -> str:
        """Link to the message's job in the django-rq dashboard while it exists."""
        try:
            exists = Job.exists(message.job_id, connection=queue.get_redis())
        except RedisError:
            return "Redis does not answer"
        if not exists:
            return "No job in Redis (finished jobs expire)"
        index = list(settings.RQ_QUEUES).index("default")
        url = reverse("django_rq:job_detail", args=[index, message.job_id])
        return format_html('<a href="{}">Open in the queue dashboard</a>', url)

    @admin.action(description="Send the owner notification again")
    def resend_owner_notification(self, request, queryset) -> None:
        self._resend(request, queryset, "owner_email")

    @admin.action(description="Send the auto-reply again")
    def resend_autoreply(self, request, queryset) -> None:
        self._resend(request, queryset, "autoreply")

    @admin.action(description="Mark as spam (send nothing more)")
    def mark_as_spam(self, request, queryset) -> None:
        verdicts = spam.mark_as_spam(queryset)
        if verdicts.marked:
            self.message_user(
                request,
                f"Marked as spam: {', '.join(verdicts.marked)}.",
                messages.SUCCESS,
            )
        if verdicts.busy:
            self.message_user(
                request,
                f"A worker is sending {', '.join(verdicts.busy)} right now; "
                f"mark it again in a minute.",
                messages.WARNING,
            )
        if not verdicts.marked and not verdicts.busy:
            self.message_user(
                request,
                "The selected messages are already held as spam.",
                messages.INFO,
            )

    @admin.action(description="Not spam: deliver as usual")
    def release_from_spam(self, request, queryset) -> None:
        if queryset.count() > MAX_RESENDS:
            self.message_user(
                request,
                f"Select at most {MAX_RESENDS} messages to release.",
                messages.ERROR,
            )
            return
        released = spam.release(queryset)
        if released:
            self.message_user(
                request, f"Released: {', '.join(released)}.", messages.SUCCESS
            )
        else:
            self.message_user(
                request, "None of the selected messages is held as spam.", messages.INFO
            )

    @admin.action(description="Export selected messages as CSV")
    def export_csv(self, request, queryset) -> HttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="contact-messages-{stamp}.csv"'
        )
        # The byte order mark tells spreadsheets the file is UTF-8; without
        # it, Excel shows names in other scripts as mojibake.
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(CSV_FIELDS)
        for message in queryset.order_by("-created_at"):
            writer.writerow(csv_cell(getattr(message, name)) for name in CSV_FIELDS)
        return response

    def _resend(self, request, queryset, email: str) -> None:
        if queryset.count() > MAX_RESENDS:
            self.message_user(
                request,
                f"Select at most {MAX_RESENDS} messages to send again.",
                messages.ERROR,
            )
            return
        result = resend(queryset, email)
        if result.queued:
            self.message_user(
                request,
                f"Queued again: {', '.join(result.queued)}.",
                messages.SUCCESS,
            )
        for reference, reason in result.skipped.items():
            self.message_user(
                request, f"Skipped {reference}: {reason}.", messages.WARNING
            )
