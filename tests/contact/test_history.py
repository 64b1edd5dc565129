import logging
import smtplib

from django.core import mail
from django.test import TestCase, override_settings

from contact import jobs, queue
from contact.models import DeliveryAttempt

from .helpers import FailingBackend, make_contact_message, refused
from .test_jobs import run_queued_jobs

Outcome = DeliveryAttempt.Outcome


def history(message) -> list[tuple[str, str]]:
    return [(a.email, a.outcome) for a in message.delivery_attempts.all()]


class DeliveryHistoryTests(TestCase):
    def test_a_delivery_records_both_emails_as_sent(self):
        message = make_contact_message()

        jobs.deliver_message(message.pk)

        assert history(message) == [
            ("owner_email", Outcome.SENT),
            ("autoreply", Outcome.SENT),
        ]

    def test_keeps_the_message_id_of_each_email(self):
        message = make_contact_message()

        jobs.deliver_message(message.pk)

        message.refresh_from_db()
        owner, reply = mail.outbox
        assert message.owner_email_message_id == owner.extra_headers["Message-ID"]
        assert message.autoreply_message_id == reply.extra_headers["Message-ID"]
        attempt = message.delivery_attempts.first()
        assert attempt.provider_message_id == message.owner_email_message_id
        assert attempt.job_id == message.job_id

    def test_an_email_services_id_wins_over_the_header(self):
        class Status:
            message_id = "service-id-1"

        email = mail.EmailMessage(headers={"Message-ID": "<header@example.org>"})
        email.anymail_status = Status()

        assert jobs.history.provider_message_id(email) == "service-id-1"


@override_settings(EMAIL_BACKEND="tests.contact.helpers.FailingBackend")
class FailureHistoryTests(TestCase):
    def setUp(self):
        FailingBackend.reset()
        self.addCleanup(FailingBackend.reset)

    @override_settings(CONTACT_RETRY_INTERVALS=[0, 0])
    def test_retries_then_a_final_failure_are_each_recorded(self):
        FailingBackend.error = smtplib.SMTPServerDisconnected("gone")
        message = make_contact_message()
        queue.enqueue_delivery(message.pk, message.job_id)

        run_queued_jobs()

        assert history(message) == [
            ("owner_email", Outcome.RETRYING),
            ("owner_email", Outcome.RETRYING),
            ("owner_email", Outcome.FAILED),
        ]
        assert "SMTPServerDisconnected" in message.delivery_attempts.last().error

    def test_refused_owner_address_fails_it_and_skips_the_autoreply(self):
        FailingBackend.error = refused(550, "User unknown")
        message = make_contact_message()

        jobs.deliver_message(message.pk)

        assert history(message) == [
            ("owner_email", Outcome.FAILED),
            ("autoreply", Outcome.SKIPPED),
        ]


class DeliveryLogTests(TestCase):
    def test_log_lines_name_the_reference_and_job_but_never_the_text(self):
        message = make_contact_message(
            subject="Private subject line", message="A very private body text"
        )

        with self.assertLogs("contact", logging.INFO) as logs:
            queue.enqueue_delivery(message.pk, message.job_id, message.reference)
            run_queued_jobs()

        assert len(logs.output) >= 3
        for line in logs.output:
            assert message.reference in line
            assert message.job_id in line
            assert "very private body" not in line
            assert "Private subject" not in line
            assert "grace@example.com" not in line
