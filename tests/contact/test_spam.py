from datetime import timedelta

from django.core import mail
from django.test import TestCase
from django.utils import timezone

from contact import queue, spam
from contact.models import ContactMessage

from .helpers import make_contact_message
from .test_jobs import run_queued_jobs

Status = ContactMessage.Status
EmailStatus = ContactMessage.EmailStatus


def make_held_message(**overrides) -> ContactMessage:
    values = {
        "is_spam": True,
        "spam_reason": "the hidden field was filled in",
        "owner_email_status": EmailStatus.SKIPPED,
        "autoreply_status": EmailStatus.SKIPPED,
    }
    values.update(overrides)
    return make_contact_message(**values)


class MarkAsSpamTests(TestCase):
    def test_a_waiting_message_is_held_and_its_job_sends_nothing(self):
        message = make_contact_message()
        queue.enqueue_delivery(message.pk, message.job_id)

        verdicts = spam.mark_as_spam(ContactMessage.objects.all())
        run_queued_jobs()

        message.refresh_from_db()
        assert verdicts.marked == [message.reference]
        assert message.is_spam
        assert message.spam_reason == spam.OWNER_VERDICT
        assert message.owner_email_status == EmailStatus.SKIPPED
        assert mail.outbox == []

    def test_a_sent_message_keeps_its_record(self):
        message = make_contact_message(
            status=Status.SENT,
            owner_email_status=EmailStatus.SENT,
            autoreply_status=EmailStatus.SENT,
        )

        spam.mark_as_spam([message])

        message.refresh_from_db()
        assert message.is_spam
        assert message.owner_email_status == EmailStatus.SENT

    def test_a_message_a_worker_is_sending_is_left_to_it(self):
        lease = timezone.now() + timedelta(seconds=30)
        message = make_contact_message(status=Status.SENDING, lease_until=lease)

        verdicts = spam.mark_as_spam([message])

        message.refresh_from_db()
        assert verdicts.busy == [message.reference]
        assert not message.is_spam
        assert message.owner_email_status == EmailStatus.PENDING

    def test_an_email_sent_since_the_selection_was_read_stays_sent(self):
        message = make_contact_message()
        ContactMessage.objects.filter(pk=message.pk).update(
            owner_email_status=EmailStatus.SENT
        )

        spam.mark_as_spam([message])

        message.refresh_from_db()
        assert message.is_spam
        assert message.owner_email_status == EmailStatus.SENT
        assert message.autoreply_status == EmailStatus.SKIPPED


class ReleaseTests(TestCase):
    def test_a_held_message_is_delivered_through_the_queue(self):
        message = make_held_message()
        old_job_id, old_queued_at = message.job_id, message.queued_at

        with self.captureOnCommitCallbacks(execute=True):
            released = spam.release([message])
        run_queued_jobs()

        message.refresh_from_db()
        assert released == [message.reference]
        assert not message.is_spam
        assert message.job_id != old_job_id
        assert message.queued_at > old_queued_at
        assert message.status == Status.SENT
        assert [email.to for email in mail.outbox] == [
            ["owner@example.net"],
            ["grace@example.com"],
        ]
        assert [(a.email, a.outcome, a.error) for a in message.delivery_attempts.all()][
            :2
        ] == [
            ("owner_email", "requeued", "released from spam"),
            ("autoreply", "requeued", "released from spam"),
        ]

    def test_nothing_is_queued_before_commit(self):
        message = make_held_message()

        with self.captureOnCommitCallbacks() as callbacks:
            spam.release([message])
            queued_before_commit = queue.get_queue().count

        assert queued_before_commit == 0
        assert len(callbacks) == 1

    def test_a_message_sent_before_it_was_marked_is_only_unmarked(self):
        message = make_held_message(
            status=Status.SENT,
            owner_email_status=EmailStatus.SENT,
            autoreply_status=EmailStatus.SENT,
        )

        with self.captureOnCommitCallbacks(execute=True):
            spam.release([message])

        message.refresh_from_db()
        assert not message.is_spam
        assert queue.get_queue().count == 0

    def test_messages_not_held_are_left_alone(self):
        message = make_contact_message()

        assert spam.release([message]) == []
