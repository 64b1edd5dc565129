"""Delivery reports posted by email services to anymail's tracking webhooks.

The payloads follow the shape the services document, with made-up ids and
example.com addresses.
"""

import base64
import hashlib
import hmac
import json
from http import HTTPStatus

from anymail.exceptions import AnymailInsecureWebhookWarning
from django.test import TestCase, override_settings
from django.urls import reverse

from contact.models import ContactMessage, DeliveryAttempt

from .helpers import make_contact_message

Tracking = ContactMessage.Tracking

WEBHOOK_SECRET = "tracker:s3cret-webhook-password"
SIGNING_KEY = "key-made-up-mailgun-signing-key"
ANYMAIL = {
    "WEBHOOK_SECRET": WEBHOOK_SECRET,
    "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
}
POSTMARK_ID = "7f2c3b1e-0000-4000-8000-00000000c0de"
MAILGUN_ID = "<20260101120000.1.ABCDEF@mg.example.com>"


def basic_auth(credentials: str = WEBHOOK_SECRET) -> dict:
    token = base64.b64encode(credentials.encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def postmark_delivery(message_id: str = POSTMARK_ID) -> dict:
    return {
        "RecordType": "Delivery",
        "ServerID": 1234,
        "MessageStream": "outbound",
        "MessageID": message_id,
        "Recipient": "owner@example.net",
        "Tag": "",
        "DeliveredAt": "2026-01-01T12:00:05.1234567Z",
        "Details": "smtp;250 2.0.0 OK",
        "Metadata": {},
    }


def postmark_bounce(message_id: str = POSTMARK_ID) -> dict:
    return {
        "RecordType": "Bounce",
        "ID": 4242,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "",
        "MessageID": message_id,
        "ServerID": 1234,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 The email account does not exist",
        "Email": "visitor@example.com",
        "From": "site@example.org",
        "BouncedAt": "2026-01-01T12:00:06Z",
        "DumpAvailable": False,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Thanks for your message",
        "Metadata": {},
    }


def mailgun_event(event: str, message_id: str, key: str = SIGNING_KEY) -> dict:
    timestamp, token = "1767268805", "made-up-token-0123456789abcdef0123456789"
    signature = hmac.new(
        key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "timestamp": 1767268805.123,
            "id": "made-up-event-id",
            "recipient": "owner@example.net",
            "message": {"headers": {"message-id": message_id.strip("<>")}},
            "delivery-status": {"code": 250, "message": "OK", "description": ""},
        },
    }


@override_settings(ANYMAIL=ANYMAIL)
class TrackingWebhookTests(TestCase):
    def post(self, service, body, **headers):
        backend = f"anymail.backends.{service}.EmailBackend"
        with self.settings(EMAIL_BACKEND=backend):
            return self.client.post(
                reverse("tracking", args=[service]),
                body,
                content_type="application/json",
                **headers,
            )

    def post_postmark(self, payload, **headers):
        return self.post("postmark", json.dumps(payload), **headers)

    def post_mailgun(self, payload, **headers):
        return self.post("mailgun", json.dumps(payload), **headers)

    def test_delivered_report_makes_the_visitor_status_delivered(self):
        message = make_contact_message(
            status="sent", owner_email_status="sent", owner_email_message_id=POSTMARK_ID
        )

        response = self.post_postmark(postmark_delivery(), **basic_auth())

        assert response.status_code == HTTPStatus.OK
        message.refresh_from_db()
        assert message.owner_email_tracking == Tracking.DELIVERED
        assert message.visitor_status == "delivered"
        attempt = message.delivery_attempts.get()
        assert attempt.email == "owner_email"
        assert attempt.outcome == DeliveryAttempt.Outcome.DELIVERED
        assert attempt.provider_message_id == POSTMARK_ID

    def test_status_page_shows_delivered(self):
        message = make_contact_message(
            status="sent", owner_email_status="sent", owner_email_message_id=POSTMARK_ID
        )
        self.post_postmark(postmark_delivery(), **basic_auth())

        response = self.client.get(message.get_absolute_url())

        self.assertContains(response, 'data-status="delivered"')

    def test_bounce_of_the_autoreply_is_recorded_on_the_autoreply(self):
        message = make_contact_message(
            status="sent", autoreply_status="sent", autoreply_message_id=POSTMARK_ID
        )

        self.post_postmark(postmark_bounce(), **basic_auth())

        message.refresh_from_db()
        assert message.autoreply_tracking == Tracking.BOUNCED
        assert message.owner_email_tracking == ""
        assert message.visitor_status == "sent"
        attempt = message.delivery_attempts.get()
        assert attempt.outcome == DeliveryAttempt.Outcome.BOUNCED
        assert "does not exist" in attempt.error

    def test_late_delivered_report_does_not_hide_a_bounce(self):
        message = make_contact_message(
            status="sent", owner_email_status="sent", owner_email_message_id=POSTMARK_ID
        )
        self.post_postmark(postmark_bounce(), **basic_auth())

        self.post_postmark(postmark_delivery(), **basic_auth())

        message.refresh_from_db()
        assert message.owner_email_tracking == Tracking.BOUNCED
        assert message.visitor_status == "failed"

    def test_unknown_message_id_is_ignored(self):
        message = make_contact_message(status="sent", owner_email_message_id="other")

        response = self.post_postmark(
            postmark_delivery("00000000-0000-4000-8000-000000000000"), **basic_auth()
        )

        assert response.status_code == HTTPStatus.OK
        message.refresh_from_db()
        assert message.owner_email_tracking == ""
        assert not DeliveryAttempt.objects.exists()

    def test_missing_basic_auth_is_refused(self):
        message = make_contact_message(
            status="sent", owner_email_message_id=POSTMARK_ID
        )

        response = self.post_postmark(postmark_delivery())

        assert response.status_code == HTTPStatus.BAD_REQUEST
        message.refresh_from_db()
        assert message.owner_email_tracking == ""

    def test_wrong_basic_auth_is_refused(self):
        message = make_contact_message(
            status="sent", owner_email_message_id=POSTMARK_ID
        )

        response = self.post_postmark(
            postmark_delivery(), **basic_auth("tracker:guess")
        )

        assert response.status_code == HTTPStatus.BAD_REQUEST
        message.refresh_from_db()
        assert message.owner_email_tracking == ""

    def test_signed_mailgun_complaint_is_recorded(self):
        message = make_contact_message(
            status="sent", autoreply_status="sent", autoreply_message_id=MAILGUN_ID
        )

        response = self.post_mailgun(
            mailgun_event("complained", MAILGUN_ID), **basic_auth()
        )

        assert response.status_code == HTTPStatus.OK
        message.refresh_from_db()
        assert message.autoreply_tracking == Tracking.COMPLAINED

    def test_mailgun_post_with_a_bad_signature_is_refused(self):
        message = make_contact_message(status="sent", owner_email_message_id=MAILGUN_ID)
        payload = mailgun_event("delivered", MAILGUN_ID, key="key-not-the-real-one")

        response = self.post_mailgun(payload, **basic_auth())

        assert response.status_code == HTTPStatus.BAD_REQUEST
        message.refresh_from_db()
        assert message.owner_email_tracking == ""

    @override_settings(ANYMAIL={"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY})
    def test_reports_are_ignored_without_a_webhook_secret(self):
        message = make_contact_message(status="sent", owner_email_message_id=MAILGUN_ID)

        with self.assertLogs("contact.tracking", "WARNING"):
            self.post_mailgun(mailgun_event("delivered", MAILGUN_ID))

        message.refresh_from_db()
        assert message.owner_email_tracking == ""


class WebhookRoutingTests(TestCase):
    def post(self, service, body, backend):
        with self.settings(EMAIL_BACKEND=backend):
            return self.client.post(
                reverse("tracking", args=[service]),
                body,
                content_type="application/json",
            )

    def test_a_site_on_smtp_has_no_webhook(self):
        smtp = "django.core.mail.backends.smtp.EmailBackend"

        response = self.post("mailgun", "{}", smtp)

        assert response.status_code == HTTPStatus.NOT_FOUND

    def test_only_the_service_in_use_has_a_webhook(self):
        postmark = "anymail.backends.postmark.EmailBackend"

        response = self.post("mailgun", "{}", postmark)

        assert response.status_code == HTTPStatus.NOT_FOUND

    @override_settings(ANYMAIL={})
    def test_a_body_that_is_not_a_report_is_a_bad_request(self):
        postmark = "anymail.backends.postmark.EmailBackend"

        with self.assertWarns(AnymailInsecureWebhookWarning):
            response = self.post("postmark", "junk", postmark)

        assert response.status_code == HTTPStatus.BAD_REQUEST
