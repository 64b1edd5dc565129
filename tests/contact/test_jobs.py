import smtplib
from datetime import timedelta
from email.utils import getaddresses

from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rq import SimpleWorker
from rq.job import JobStatus

from contact import jobs, queue
from contact.models import ContactMessage, DeliveryAttempt

from .helpers import FailingBackend, make_contact_message, refused

Status = ContactMessage.Status
EmailStatus = ContactMessage.EmailStatus


class TakeoverBackend(locmem.EmailBackend):
    """A locmem backend that runs ``takeover`` first, as if another worker took
    the message while this one was sending."""

    takeover = staticmethod(lambda: None)

    def send_messages(self, messages):
        type(self).takeover()
        return super().send_messages(messages)


def run_queued_jobs():
    """Drain the fake queue in this process, as a burst worker would."""
    worker = SimpleWorker([queue.get_queue()], connection=queue.get_redis())
    worker.work(burst=True)


class DeliverMessageTests(TestCase):
    def test_sends_owner_notification_and_autoreply(self):
        message = make_contact_message()

        jobs.deliver_message(message.pk)

        owner, reply = mail.outbox
        assert owner.to == ["owner@example.net"]
        assert owner.reply_to == ["Grace Hopper <grace@example.com>"]
        assert message.reference in owner.subject
        assert "A bug in the relay" in owner.subject
        assert "I found a moth in panel F." in owner.body
        owner_html, mimetype = owner.alternatives[0]
        assert mimetype == "text/html"
        assert "I found a moth in panel F." in owner_html
        assert reply.to == ["grace@example.com"]
        assert message.reference in reply.subject
        assert reply.alternatives[0][1] == "text/html"

    def test_from_is_the_sites_own_address(self):
        message = make_contact_message()

        jobs.deliver_message(message.pk)

        for email in mail.outbox:
            assert getaddresses([email.from_email])[0][1] == "site@example.org"

    def test_the_owners_copy_names_the_visitor_as_sender(self):
        message = make_contact_message()

        jobs.deliver_message(message.pk)

        owner = mail.outbox[0]
        assert getaddresses([owner.from_email])[0] == (
            "Grace Hopper via Test Portfolio",
            "site@example.org",
        )

    @override_settings(DEFAULT_FROM_EMAIL="Ada's site <site@example.org>")
    def test_a_sender_address_with_a_display_name_is_used_as_written(self):
        message = make_contact_message()

        jobs.deliver_message(message.pk)

        owner, reply = mail.outbox
        assert getaddresses([reply.from_email])[0] == ("Ada's site", "site@example.org")
        assert owner.extra_headers["Message-ID"].endswith("@example.org>")
        message.refresh_from_db()
        assert message.status == Status.SENT

    def test_an_address_no_header_can_hold_fails_only_the_auto_reply(self):
        # A domain without an ASCII form, saved before the form refused them.
        message = make_contact_message(email="x@" + "ü" * 60 + ".com")

        jobs.deliver_message(message.pk)

        message.refresh_from_db()
        (owner,) = mail.outbox
        assert owner.reply_to == []
        assert message.status == Status.SENT
        assert message.autoreply_status == EmailStatus.FAILED
        assert message.attempts == 1
        assert message.last_error.startswith("UnicodeError")

    def test_autoreply_never_echoes_the_visitors_text(self):
        message = make_contact_message(
            name="Buy pills", subject="CHEAP PILLS", message="visit spam.example"
        )

        jobs.deliver_message(message.pk)

        reply = mail.outbox[1]
        rendered = reply.subject + reply.body + reply.alternatives[0][0]
        for text in ("Buy pills", "CHEAP PILLS", "spam.example"):
            assert text not in rendered

    def test_records_both_emails_and_marks_sent(self):
        message = make_contact_message()

        jobs.deliver_message(message.pk)

        message.refresh_from_db()
        assert message.status == Status.SENT
        assert message.owner_email_status == EmailStatus.SENT
        assert message.autoreply_status == EmailStatus.SENT
        assert message.owner_email_sent_at is not None
        assert message.autoreply_sent_at is not None
        assert message.attempts == 1
        assert message.lease_until is None

    @override_settings(EMAIL_BACKEND="tests.contact.helpers.FailingBackend")
    def test_status_is_sending_while_the_emails_go_out(self):
        message = make_contact_message()
        seen = []
        original = FailingBackend.send_messages

        def spy(backend, messages):
            seen.append(ContactMessage.objects.get(pk=message.pk).status)
            return original(backend, messages)

        FailingBackend.reset()
        FailingBackend.send_messages = spy
        try:
            jobs.deliver_message(message.pk)
        finally:
            FailingBackend.send_messages = original

        assert seen == [Status.SENDING, Status.SENT]

    def test_running_twice_sends_each_email_once(self):
        message = make_contact_message()

        jobs.deliver_message(message.pk)
        jobs.deliver_message(message.pk)

        assert len(mail.outbox) == 2

    def test_a_leased_message_is_left_to_its_holder(self):
        lease = timezone.now() + timedelta(seconds=30)
        message = make_contact_message(status=Status.SENDING, lease_until=lease)

        jobs.deliver_message(message.pk)

        assert mail.outbox == []
        message.refresh_from_db()
        assert message.attempts == 0

    def test_the_lease_outlasts_the_jobs_timeout(self):
        message = make_contact_message()
        queue.enqueue_delivery(message.pk, message.job_id)
        job = queue.get_queue().fetch_job(message.job_id)

        claimed_at = timezone.now()
        claimed = jobs._claim(message.pk)

        lease = (claimed.lease_until - claimed_at).total_seconds()
        assert lease >= job.timeout + 1

    def test_claims_exactly_the_unfinished_unleased_messages(self):
        now = timezone.now()
        leases = (None, now - timedelta(seconds=1), now + timedelta(minutes=1))
        messages = [
            make_contact_message(
                status=status,
                autoreply_status=autoreply,
                is_spam=is_spam,
                lease_until=lease,
            )
            for status in Status.values
            for autoreply in EmailStatus.values
            for is_spam in (False, True)
            for lease in leases
        ]
        expected = set(
            ContactMessage.objects.unfinished().unleased().values_list("pk", flat=True)
        )

        claimed = {m.pk for m in messages if jobs._claim(m.pk) is not None}

        assert expected
        assert claimed == expected

    def test_a_job_that_lost_its_lease_leaves_the_new_holders_alone(self):
        message = make_contact_message()
        later = timezone.now() + timedelta(minutes=5)
        TakeoverBackend.takeover = lambda: ContactMessage.objects.filter(
            pk=message.pk
        ).update(lease_until=later)

        with override_settings(EMAIL_BACKEND="tests.contact.test_jobs.TakeoverBackend"):
            jobs.deliver_message(message.pk)

        message.refresh_from_db()
        assert message.owner_email_status == EmailStatus.SENT
        assert message.lease_until == later

    def test_a_failed_try_after_its_lease_was_lost_leaves_the_row_alone(self):
        message = make_contact_message()
        later = timezone.now() + timedelta(minutes=5)

        def takeover():
            ContactMessage.objects.filter(pk=message.pk).update(lease_until=later)
            raise smtplib.SMTPServerDisconnected("gone")

        TakeoverBackend.takeover = takeover

        with (
            override_settings(EMAIL_BACKEND="tests.contact.test_jobs.TakeoverBackend"),
            self.assertRaises(smtplib.SMTPServerDisconnected),
        ):
            jobs.deliver_message(message.pk)

        message.refresh_from_db()
        assert message.lease_until == later
        assert message.last_error == ""
        assert message.owner_email_status == EmailStatus.PENDING

    def test_an_expired_lease_is_taken_over(self):
        lease = timezone.now() - timedelta(seconds=1)
        message = make_contact_message(status=Status.SENDING, lease_until=lease)

        jobs.deliver_message(message.pk)

        assert len(mail.outbox) == 2

    def test_an_accepted_owner_email_is_not_sent_again(self):
        message = make_contact_message(
            status=Status.SENT, owner_email_status=EmailStatus.SENT
        )

        jobs.deliver_message(message.pk)

        assert [email.to for email in mail.outbox] == [["grace@example.com"]]

    def test_missing_message_is_a_no_op(self):
        jobs.deliver_message(123456)

        assert mail.outbox == []


@override_settings(EMAIL_BACKEND="tests.contact.helpers.FailingBackend")
class DeliveryFailureTests(TestCase):
    def setUp(self):
        FailingBackend.reset()
        self.addCleanup(FailingBackend.reset)

    def enqueue(self, message):
        queue.enqueue_delivery(message.pk, message.job_id)

    @override_settings(CONTACT_RETRY_INTERVALS=[0, 0])
    def test_transient_failure_is_retried_then_marked_failed(self):
        FailingBackend.error = smtplib.SMTPServerDisconnected("gone")
        message = make_contact_message()
        self.enqueue(message)

        run_queued_jobs()

        message.refresh_from_db()
        assert message.status == Status.FAILED
        assert message.owner_email_status == EmailStatus.FAILED
        assert message.autoreply_status == EmailStatus.SKIPPED
        assert message.attempts == 3
        assert "SMTPServerDisconnected" in message.last_error
        assert message.lease_until is None
        assert queue.get_queue().failed_job_registry.count == 1

    @override_settings(CONTACT_RETRY_INTERVALS=[0, 0])
    def test_transient_failure_then_success_sends_once(self):
        FailingBackend.error = smtplib.SMTPResponseException(421, b"Try later")
        message = make_contact_message()
        self.enqueue(message)
        original = FailingBackend.send_messages

        def fail_once(backend, messages):
            if FailingBackend.calls:
                FailingBackend.error = None
            return original(backend, messages)

        FailingBackend.send_messages = fail_once
        try:
            run_queued_jobs()
        finally:
            FailingBackend.send_messages = original

        message.refresh_from_db()
        assert message.status == Status.SENT
        assert message.attempts == 2
        assert len(mail.outbox) == 2
        assert message.last_error == ""
        assert message.delivery_attempts.filter(error__contains="421").exists()

    @override_settings(CONTACT_RETRY_INTERVALS=[0, 0])
    def test_rejected_visitor_address_fails_autoreply_without_retry(self):
        message = make_contact_message()
        FailingBackend.error = refused(550, "User unknown")
        FailingBackend.failing = {"grace@example.com"}
        self.enqueue(message)

        run_queued_jobs()

        message.refresh_from_db()
        assert message.status == Status.SENT
        assert message.owner_email_status == EmailStatus.SENT
        assert message.autoreply_status == EmailStatus.FAILED
        assert "550" in message.last_error
        assert message.attempts == 1
        assert [email.to for email in mail.outbox] == [["owner@example.net"]]

    @override_settings(CONTACT_RETRY_INTERVALS=[0, 0])
    def test_rejected_login_fails_the_message_without_retry(self):
        message = make_contact_message()
        FailingBackend.error = smtplib.SMTPAuthenticationError(535, b"Bad login")
        self.enqueue(message)

        run_queued_jobs()

        message.refresh_from_db()
        assert message.status == Status.FAILED
        assert message.owner_email_status == EmailStatus.FAILED
        assert message.autoreply_status == EmailStatus.SKIPPED
        assert message.attempts == 1

    def test_temporarily_refused_recipient_is_transient(self):
        assert not jobs._is_permanent(refused(450, "Mailbox busy"))
        assert jobs._is_permanent(refused(550, "User unknown"))
        assert not jobs._is_permanent(TimeoutError())
        assert not jobs._is_permanent(ConnectionRefusedError())


class RequeueStalledTests(TestCase):
    def old(self, **fields):
        message = make_contact_message(**fields)
        created = timezone.now() - timedelta(minutes=5)
        ContactMessage.objects.filter(pk=message.pk).update(created_at=created)
        return message

    def test_requeues_a_message_whose_enqueue_never_happened(self):
        message = self.old()

        count = jobs.requeue_stalled()

        message.refresh_from_db()
        assert count == 1
        assert queue.get_queue().job_ids == [message.job_id]

    def test_leaves_a_message_whose_job_is_waiting(self):
        message = self.old()
        queue.enqueue_delivery(message.pk, message.job_id)

        count = jobs.requeue_stalled()

        assert count == 0
        assert queue.get_queue().count == 1

    def test_requeues_a_message_whose_worker_died(self):
        lease = timezone.now() - timedelta(seconds=1)
        self.old(status=Status.SENDING, lease_until=lease)

        assert jobs.requeue_stalled() == 1

    def test_a_dead_workers_message_is_requeued_once_not_at_every_sweep(self):
        lease = timezone.now() - timedelta(seconds=1)
        message = self.old(status=Status.SENDING, lease_until=lease)

        counts = [jobs.requeue_stalled() for _ in range(3)]

        message.refresh_from_db()
        assert counts == [1, 0, 0]
        assert queue.get_queue().job_ids == [message.job_id]
        assert message.lease_until is None

    def test_leaves_young_and_finished_messages(self):
        make_contact_message()
        self.old(
            status=Status.SENT,
            owner_email_status=EmailStatus.SENT,
            autoreply_status=EmailStatus.SENT,
        )
        self.old(status=Status.FAILED)

        assert jobs.requeue_stalled() == 0

    def started_job(self, message, seconds_ago):
        queue.enqueue_delivery(message.pk, message.job_id)
        job = queue.get_queue().fetch_job(message.job_id)
        job.started_at = timezone.now() - timedelta(seconds=seconds_ago)
        job.save()
        job.set_status(JobStatus.STARTED)

    def test_requeues_a_job_started_by_a_worker_that_died_before_claiming(self):
        message = self.old()
        self.started_job(message, seconds_ago=120)

        assert jobs.requeue_stalled() == 1

    def test_requeues_a_job_taken_by_a_worker_that_died_before_starting_it(self):
        message = self.old()
        queue.enqueue_delivery(message.pk, message.job_id)
        # A worker moves the job to RQ's intermediate list, then dies.
        redis = queue.get_redis()
        redis.lmove(queue.get_queue().key, queue.get_queue().intermediate_queue.key)

        count = jobs.requeue_stalled()

        message.refresh_from_db()
        assert count == 1
        assert queue.get_queue().job_ids == [message.job_id]

    def test_leaves_a_job_that_just_started(self):
        message = self.old()
        self.started_job(message, seconds_ago=1)

        assert jobs.requeue_stalled() == 0


class SpamDeliveryTests(TestCase):
    def test_a_held_message_is_never_sent(self):
        message = make_contact_message(is_spam=True)

        jobs.deliver_message(message.pk)

        assert mail.outbox == []
        message.refresh_from_db()
        assert message.attempts == 0

    def test_the_sweeper_never_picks_up_held_messages(self):
        make_contact_message(
            is_spam=True, created_at=timezone.now() - timedelta(minutes=5)
        )

        assert jobs.requeue_stalled(grace_seconds=0) == 0
        assert queue.get_queue().count == 0


class HeaderFoldingTests(TestCase):
    def test_line_breaks_saved_in_name_and_subject_are_folded(self):
        message = make_contact_message(
            name="Grace\r\nBcc: victim@example.org", subject="Hi\nBcc: x@example.org"
        )

        jobs.deliver_message(message.pk)

        owner = mail.outbox[0].message()
        assert owner["Reply-To"] == (
            '"Grace Bcc: victim@example.org" <grace@example.com>'
        )
        assert owner["Subject"].startswith("[Test Portfolio] Hi Bcc: x@example.org")
        assert "Bcc" not in owner.keys()
        message.refresh_from_db()
        assert message.status == Status.SENT


class DeliveryWritesTests(TestCase):
    """Every commit costs a disk flush, so a delivery makes as few as it can."""

    def test_claims_then_records_each_email_in_one_statement(self):
        message = make_contact_message()

        with CaptureQueriesContext(connection) as queries:
            jobs.deliver_message(message.pk)

        writes = [
            q["sql"].split()[0]
            for q in queries.captured_queries
            if q["sql"].split()[0] in ("UPDATE", "INSERT", "WITH", "SAVEPOINT")
        ]
        assert writes == ["UPDATE", "WITH", "WITH"]
        assert message.delivery_attempts.count() == 2

    def test_a_message_deleted_while_sending_gets_no_history_nor_auto_reply(self):
        message = make_contact_message()
        TakeoverBackend.takeover = lambda: ContactMessage.objects.filter(
            pk=message.pk
        ).delete()

        with override_settings(EMAIL_BACKEND="tests.contact.test_jobs.TakeoverBackend"):
            jobs.deliver_message(message.pk)

        assert not DeliveryAttempt.objects.filter(message_id=message.pk).exists()
        assert [email.to for email in mail.outbox] == [["owner@example.net"]]

    def test_last_email_ends_the_lease_in_its_own_update(self):
        message = make_contact_message()

        jobs.deliver_message(message.pk)

        message.refresh_from_db()
        assert message.lease_until is None
        assert message.delivery_attempts.count() == 2
