from datetime import timedelta
from unittest import mock

from django.core import mail
from django.core.mail.backends import locmem
from django.test import TestCase, override_settings
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from contact import autoreply, jobs, queue
from contact.models import ContactMessage, DeliveryAttempt

from .helpers import make_contact_message

EmailStatus = ContactMessage.EmailStatus


def recipients() -> list[str]:
    return [address for email in mail.outbox for address in email.to]


class OtherWorkerBackend(locmem.EmailBackend):
    """A locmem backend during whose first send another worker delivers the
    message ``other``, as if they ran at the same moment."""

    other = None

    def send_messages(self, messages):
        other, type(self).other = type(self).other, None
        if other is not None:
            jobs.deliver_message(other)
        return super().send_messages(messages)


class AutoReplyOnceADayTests(TestCase):
    def test_a_second_message_from_the_same_address_gets_no_auto_reply(self):
        first = make_contact_message()
        second = make_contact_message(email="GRACE@example.com")

        jobs.deliver_message(first.pk)
        jobs.deliver_message(second.pk)

        second.refresh_from_db()
        assert recipients() == [
            "owner@example.net",
            "grace@example.com",
            "owner@example.net",
        ]
        assert second.owner_email_status == EmailStatus.SENT
        assert second.autoreply_status == EmailStatus.SKIPPED
        skipped = second.delivery_attempts.get(outcome=DeliveryAttempt.Outcome.SKIPPED)
        assert skipped.email == "autoreply"
        assert skipped.error == autoreply.ALREADY_REPLIED

    def test_an_auto_reply_older_than_a_day_does_not_count(self):
        make_contact_message(
            autoreply_sent_at=timezone.now() - timedelta(days=1, seconds=1)
        )
        message = make_contact_message()

        assert autoreply.reason_to_skip(message) == ""

    def test_the_workers_claim_answers_as_the_lookup_does(self):
        now = timezone.now()
        make_contact_message(email="GRACE@example.com", autoreply_sent_at=now)
        make_contact_message(
            email="ada@example.com", autoreply_sent_at=now - timedelta(days=2)
        )
        make_contact_message(email="alan@example.com")
        itself = make_contact_message(email="eve@example.com", autoreply_sent_at=now)
        messages = [
            make_contact_message(email=address)
            for address in ("grace@example.com", "ada@example.com", "alan@example.com")
        ]
        messages.append(itself)

        claimed = [jobs._claim(m.pk) for m in messages]

        expected = [True, False, False, False]
        assert [m.replied_recently for m in claimed] == expected
        assert [autoreply.replied_recently(m) for m in messages] == expected

    def test_another_worker_holding_the_address_wins(self):
        message = make_contact_message()
        other = make_contact_message()
        assert autoreply.reason_to_skip(other) == ""

        reason = autoreply.reason_to_skip(message)

        assert reason == autoreply.ALREADY_REPLIED

    def test_a_reservation_whose_message_is_gone_is_taken_over(self):
        message = make_contact_message()
        # Left by a database that was since replaced, Redis keeping its keys.
        gone = make_contact_message()
        autoreply.reason_to_skip(gone)
        gone.delete()

        reason = autoreply.reason_to_skip(message)

        assert reason == ""

    def test_a_reservation_whose_auto_reply_failed_is_taken_over(self):
        message = make_contact_message()
        failed = make_contact_message()
        autoreply.reason_to_skip(failed)
        failed.autoreply_status = EmailStatus.FAILED
        failed.save()

        reason = autoreply.reason_to_skip(message)

        assert reason == ""

    def test_a_retry_of_the_same_message_keeps_its_reservation(self):
        message = make_contact_message()

        first = autoreply.reason_to_skip(message)
        again = autoreply.reason_to_skip(message)

        assert first == again == ""

    def test_the_reservation_lasts_a_day(self):
        message = make_contact_message()

        autoreply.reason_to_skip(message)

        keys = queue.get_redis().keys("contact:autoreply:*")
        assert len(keys) == 1
        assert 86390 < queue.get_redis().ttl(keys[0]) <= 86400

    def test_without_redis_the_rows_still_keep_the_rule(self):
        make_contact_message(autoreply_sent_at=timezone.now())
        repeat = make_contact_message()
        fresh = make_contact_message(email="ada@example.com")
        down = RedisConnectionError("Connection refused")

        with mock.patch.object(queue, "get_redis", side_effect=down):
            reasons = [autoreply.reason_to_skip(m) for m in (repeat, fresh)]

        assert reasons == [autoreply.ALREADY_REPLIED, ""]

    @override_settings(EMAIL_BACKEND="tests.contact.test_autoreply.OtherWorkerBackend")
    def test_without_redis_a_reply_sent_during_the_owners_email_counts(self):
        first = make_contact_message(email="grace@example.com")
        second = make_contact_message(email="GRACE@example.com")
        OtherWorkerBackend.other = first.pk
        down = RedisConnectionError("Connection refused")

        with mock.patch.object(queue, "get_redis", side_effect=down):
            jobs.deliver_message(second.pk)

        assert recipients().count("grace@example.com") == 1
        assert "GRACE@example.com" not in recipients()
        second.refresh_from_db()
        assert second.autoreply_status == EmailStatus.SKIPPED
