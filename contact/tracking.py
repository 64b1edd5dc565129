"""Delivery reports from an email service, received through anymail's webhooks.

anymail verifies each webhook post (basic auth from ``WEBHOOK_SECRET``, and the
service's signature where it signs them) and sends its ``tracking`` signal with
a normalised event. Events are matched to an email by the message id stored
when the email was sent; events for any other email are ignored.
"""

import logging

from anymail import urls as anymail_urls
from anymail.signals import AnymailTrackingEvent, EventType, tracking
from django.conf import settings
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt

from . import history
from .models import ContactMessage

logger = logging.getLogger(__name__)

Tracking = ContactMessage.Tracking

REPORTED = {
    EventType.DELIVERED: Tracking.DELIVERED,
    EventType.BOUNCED: Tracking.BOUNCED,
    EventType.COMPLAINED: Tracking.COMPLAINED,
    EventType.REJECTED: Tracking.REJECTED,
}

EMAIL_FIELDS = ("owner_email", "autoreply")

# anymail's tracking webhook view for each email service, by anymail's name.
TRACKING_VIEWS = {
    pattern.name.removesuffix("_tracking_webhook"): pattern.callback
    for pattern in anymail_urls.urlpatterns
    if (pattern.name or "").endswith("_tracking_webhook")
}


def configured_service() -> str | None:
    """Return anymail's name for the email service EMAIL_BACKEND sends through."""
    parts = settings.EMAIL_BACKEND.split(".")
    if len(parts) == 4 and parts[:2] == ["anymail", "backends"]:
        return parts[2]
    return None


@csrf_exempt
def webhook(request: HttpRequest, service: str) -> HttpResponse:
    """Pass a delivery report to anymail's webhook for the service in use.

    Only the service that sends the site's email has a webhook, so a site on
    SMTP has none; anymail's webhooks for every other service would answer
    anyone's posts with configuration errors. A body that is not a report
    gets a 400.
    """
    view = TRACKING_VIEWS.get(service)
    if view is None or service != configured_service():
        raise Http404("No webhook for this email service")
    try:
        return view(request)
    except (ValueError, KeyError, TypeError):
        # Reached only without a webhook secret (anymail checks the secret
        # before reading the body), when no report is acted on anyway.
        logger.warning("Email tracking: %s posted a body that is not a report", service)
        return HttpResponseBadRequest("Not a delivery report")


@receiver(tracking, dispatch_uid="contact.tracking.record_tracking_event")
def record_tracking_event(
    sender, event: AnymailTrackingEvent, esp_name: str, **kwargs
) -> None:
    """Record a delivered, bounced, complained or rejected report on its email.

    A "delivered" report never overwrites a worse one that arrived first, since
    services do not promise to send events in order. Without a webhook secret
    anyone could post events, so none are acted on.
    """
    outcome = REPORTED.get(event.event_type)
    if outcome is None or not event.message_id:
        return
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        logger.warning(
            "Email tracking: %s event from %s ignored: WEBHOOK_SECRET is not set",
            event.event_type,
            esp_name,
        )
        return

    message_id = str(event.message_id)[:255]
    for field in EMAIL_FIELDS:
        message = ContactMessage.objects.filter(
            **{f"{field}_message_id": message_id}
        ).first()
        if message is not None:
            _record(message, field, outcome, event, message_id)
            return
    logger.info(
        "Email tracking: %s event from %s for an unknown email ignored",
        event.event_type,
        esp_name,
    )


def _record(
    message: ContactMessage,
    field: str,
    outcome: str,
    event: AnymailTrackingEvent,
    message_id: str,
) -> None:
    current = getattr(message, f"{field}_tracking")
    if outcome != Tracking.DELIVERED or current in ("", Tracking.DELIVERED):
        ContactMessage.objects.filter(pk=message.pk).update(
            **{f"{field}_tracking": outcome}
        )
    detail = " / ".join(
        str(part) for part in (event.description, event.mta_response) if part
    )
    history.record_report(message, field, outcome, detail[:1000], message_id)
    log = logger.info if outcome == Tracking.DELIVERED else logger.warning
    log(
        "Contact message %s (job %s): %s %s, reported by the email service",
        message.reference,
        message.job_id,
        field,
        outcome,
    )
