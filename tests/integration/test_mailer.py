"""The worker's kept mail connection against a real SMTP server."""

import pytest

from contact import jobs, mailer
from contact.models import ContactMessage

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture
def smtp_settings(settings, smtp):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    mailer.close()
    yield
    mailer.close()


def make_messages(count: int) -> list[ContactMessage]:
    return [
        ContactMessage.objects.create(
            name=f"Visitor {i}",
            email=f"visitor{i}@example.com",
            subject="A question",
            message="Hello.",
        )
        for i in range(count)
    ]


def test_consecutive_messages_share_one_smtp_session(smtp, smtp_settings):
    messages = make_messages(3)

    for message in messages:
        jobs.deliver_message(message.pk)

    assert len(smtp.messages) == 6
    assert smtp.sessions == 1


def test_a_refused_email_leaves_the_next_message_a_fresh_session(smtp, smtp_settings):
    first, second = make_messages(2)
    smtp.mode = "refuse"
    with pytest.raises(Exception, match="421"):
        jobs.deliver_message(first.pk)
    smtp.mode = "accept"

    jobs.deliver_message(second.pk)

    assert smtp.sessions == 2
    assert len(smtp.to("owner@example.net")) == 1
