"""The SMTP backend's longer wait for a server's verdict, against a real server."""

import smtplib

import pytest

from contact import jobs, mailer
from contact.models import ContactMessage

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def slow_verdicts(settings, smtp):
    """Point the site at a server that answers each email's end 1.5 s late."""
    settings.EMAIL_BACKEND = "contact.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 1
    smtp.delay = 1.5
    mailer.close()
    yield settings
    mailer.close()


def make_message() -> ContactMessage:
    return ContactMessage.objects.create(
        name="Ada", email="ada@example.com", subject="Hi", message="Hello."
    )


def test_a_verdict_slower_than_email_timeout_is_waited_for(slow_verdicts, smtp):
    slow_verdicts.EMAIL_DATA_TIMEOUT = 5
    message = make_message()

    jobs.deliver_message(message.pk)

    message.refresh_from_db()
    assert message.status == ContactMessage.Status.SENT
    assert max(smtp.copies().values()) == 1
    assert len(smtp.messages) == 2


def test_a_verdict_slower_than_email_data_timeout_fails_the_try(slow_verdicts, smtp):
    slow_verdicts.EMAIL_DATA_TIMEOUT = 0.5
    message = make_message()

    # Run outside a queue, this is the last try: the failure is final.
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
        jobs.deliver_message(message.pk)

    message.refresh_from_db()
    assert message.owner_email_status == ContactMessage.EmailStatus.FAILED
    assert "timed out" in message.last_error
