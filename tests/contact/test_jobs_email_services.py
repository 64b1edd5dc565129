"""Delivery through an email service's API (django-anymail) instead of SMTP."""

from types import SimpleNamespace

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.test import TestCase, override_settings

from contact import queue
from contact.models import ContactMessage

from .helpers import FailingBackend, make_contact_message
from .test_jobs import run_queued_jobs

EmailStatus = ContactMessage.EmailStatus


def api_error(status_code: int) -> AnymailAPIError:
    """Return the error anymail raises when the service answers ``status_code``."""
    response = SimpleNamespace(reason="Refused", text='{"Message": "made up"}')
    return AnymailAPIError(
        "Send failed", status_code=status_code, response=response, esp_name="Postmark"
    )


@override_settings(
    EMAIL_BACKEND="tests.contact.helpers.FailingBackend",
    CONTACT_RETRY_INTERVALS=[0, 0],
)
class EmailServiceFailureTests(TestCase):
    def setUp(self):
        FailingBackend.reset()
        self.addCleanup(FailingBackend.reset)

    def deliver(self, message):
        queue.enqueue_delivery(message.pk, message.job_id)
        run_queued_jobs()
        message.refresh_from_db()

    def test_refused_visitor_address_fails_the_autoreply_at_once(self):
        FailingBackend.error = AnymailRecipientsRefused("Recipient refused")
        FailingBackend.failing = {"grace@example.com"}
        message = make_contact_message()

        self.deliver(message)

        assert message.owner_email_status == EmailStatus.SENT
        assert message.autoreply_status == EmailStatus.FAILED
        assert message.attempts == 1

    def test_rejected_api_key_fails_without_retry(self):
        FailingBackend.error = api_error(401)
        message = make_contact_message()

        self.deliver(message)

        assert message.owner_email_status == EmailStatus.FAILED
        assert message.attempts == 1

    def test_a_rate_limit_is_retried(self):
        message = make_contact_message()
        FailingBackend.error = api_error(429)

        self.deliver(message)

        assert message.owner_email_status == EmailStatus.FAILED
        assert message.attempts == 3
        assert "API response 429" in message.last_error
