from datetime import timedelta

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test import TestCase
from django.utils import timezone

from contact.models import ContactMessage

from .helpers import make_contact_message

Status = ContactMessage.Status


class SpamStatusTests(TestCase):
    def test_a_held_message_reads_queued_at_first_like_any_other(self):
        message = make_contact_message(is_spam=True)

        assert message.visitor_status == Status.QUEUED
        assert not message.is_final

    def test_a_held_message_reads_sent_once_a_poll_comes(self):
        message = make_contact_message(
            is_spam=True, created_at=timezone.now() - timedelta(seconds=2)
        )

        assert message.visitor_status == Status.SENT
        assert message.is_final

    def test_held_messages_are_never_unfinished(self):
        make_contact_message(is_spam=True)
        waiting = make_contact_message()

        assert list(ContactMessage.objects.unfinished()) == [waiting]


class LengthConstraintTests(TestCase):
    def test_the_database_refuses_an_overlong_message(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_contact_message(message="m" * 5001)

    def test_the_database_refuses_overlong_one_line_fields(self):
        message = make_contact_message()
        rows = ContactMessage.objects.filter(pk=message.pk)

        for field, limit in (("name", 100), ("subject", 150), ("email", 254)):
            with pytest.raises((IntegrityError, DataError)), transaction.atomic():
                rows.update(**{field: "x" * (limit + 1)})

    def test_fields_at_their_limits_are_kept(self):
        message = make_contact_message(
            name="n" * 100, subject="s" * 150, message="m" * 5000
        )

        message.refresh_from_db()
        assert len(message.message) == 5000


class QueuedAtTests(TestCase):
    def test_a_row_inserted_without_it_gets_the_time_of_insertion(self):
        """As the previous release's code inserts while a release migrates."""
        template = make_contact_message()
        columns = [
            field.column
            for field in ContactMessage._meta.concrete_fields
            if field.name not in ("id", "queued_at", "reference", "token")
        ]
        values = [getattr(template, column) for column in columns]
        before = timezone.now()

        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO contact_contactmessage "
                f"({', '.join(columns)}, reference, token) "
                f"VALUES ({', '.join(['%s'] * len(columns))}, 'OLDCODE1', 'old-token')",
                values,
            )

        inserted = ContactMessage.objects.get(reference="OLDCODE1")
        assert inserted.queued_at >= before
