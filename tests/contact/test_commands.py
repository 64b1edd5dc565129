from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings
from django.utils import timezone

from contact import queue
from contact.models import ContactMessage, DeliveryAttempt

from .helpers import make_contact_message
from .test_admin import make_failed_message

Status = ContactMessage.Status


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


class FailedMessagesCommandTests(TestCase):
    def test_lists_failed_messages(self):
        failed = make_failed_message(last_error="SMTPAuthenticationError: 535")
        make_contact_message(status=Status.SENT)

        output = run("failed_messages")

        assert failed.reference in output
        assert "535" in output
        assert "1 failed" in output
        assert queue.get_queue().count == 0

    def test_leaves_out_failed_messages_marked_as_spam(self):
        make_failed_message(is_spam=True, spam_reason="marked by the owner")

        with self.captureOnCommitCallbacks(execute=True):
            output = run("failed_messages", "--requeue")

        assert "No failed messages" in output
        assert queue.get_queue().count == 0

    def test_says_so_when_nothing_failed(self):
        assert "No failed messages" in run("failed_messages")

    def test_requeue_sends_them_through_the_queue(self):
        failed = make_failed_message()

        with self.captureOnCommitCallbacks(execute=True):
            output = run("failed_messages", "--requeue")

        assert "Queued again: 1" in output
        failed.refresh_from_db()
        assert failed.status == Status.QUEUED
        assert queue.get_queue().job_ids == [failed.job_id]


class PurgeMessagesCommandTests(TestCase):
    @override_settings(CONTACT_RETENTION_DAYS=30)
    def test_deletes_messages_past_the_retention_period(self):
        old = make_contact_message(created_at=timezone.now() - timedelta(days=31))
        DeliveryAttempt.objects.create(message=old, email="owner_email", outcome="sent")
        recent = make_contact_message(created_at=timezone.now() - timedelta(days=29))

        output = run("purge_messages")

        assert "Deleted 1 messages" in output
        assert list(ContactMessage.objects.all()) == [recent]
        assert not DeliveryAttempt.objects.exists()

    @override_settings(CONTACT_RETENTION_DAYS=30)
    def test_dry_run_deletes_nothing(self):
        make_contact_message(created_at=timezone.now() - timedelta(days=31))

        output = run("purge_messages", "--dry-run")

        assert "Would delete 1 messages" in output
        assert ContactMessage.objects.count() == 1

    def test_refuses_to_keep_nothing(self):
        with pytest.raises(CommandError, match="--days must keep at least one day"):
            run("purge_messages", "--days", "0")

    @override_settings(CONTACT_RETENTION_DAYS=0)
    def test_names_the_setting_that_would_keep_nothing(self):
        with pytest.raises(CommandError, match="CONTACT_RETENTION_DAYS"):
            run("purge_messages")

    def test_a_period_beyond_the_calendar_is_a_clear_error(self):
        with pytest.raises(CommandError, match="too large"):
            run("purge_messages", "--days", "99999999")


class SweepCommandTests(TestCase):
    def test_intervals_of_zero_or_infinity_are_refused(self):
        for interval in ("0", "inf"):
            with pytest.raises(CommandError, match="--interval must be a number"):
                run("sweep", "--interval", interval)

    def test_a_failed_sweep_from_cron_exits_with_an_error(self):
        sweep = "contact.management.commands.sweep"
        # The test's transaction must keep its connection.
        with mock.patch(f"{sweep}.close_old_connections"):
            with mock.patch(
                f"{sweep}.requeue_stalled", side_effect=ConnectionError("Redis down")
            ):
                with pytest.raises(CommandError, match="The sweep failed"):
                    run("sweep", "--once")

    @override_settings(CONTACT_SWEEP_SECONDS=-1)
    def test_a_negative_setting_is_refused_by_name(self):
        with pytest.raises(CommandError, match="CONTACT_SWEEP_SECONDS"):
            run("sweep")
