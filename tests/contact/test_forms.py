from django.db import transaction
from django.test import TestCase

from contact import queue
from contact.forms import ContactForm
from contact.models import ContactMessage

from .helpers import VALID_POST


class ContactFormTests(TestCase):
    def test_valid_data_is_valid(self):
        form = ContactForm(data=VALID_POST)

        assert form.is_valid(), form.errors

    def test_line_breaks_in_name_and_subject_fold_to_spaces(self):
        data = dict(
            VALID_POST, name="Grace\r\nBcc: x@example.org", subject="Hi\nthere\r"
        )

        form = ContactForm(data=data)

        assert form.is_valid(), form.errors
        assert form.cleaned_data["name"] == "Grace Bcc: x@example.org"
        assert form.cleaned_data["subject"] == "Hi there"

    def test_message_keeps_its_line_breaks(self):
        form = ContactForm(data=VALID_POST)

        form.is_valid()

        assert form.cleaned_data["message"] == VALID_POST["message"]

    def test_missing_fields_are_reported_per_field(self):
        form = ContactForm(data={})

        assert not form.is_valid()
        assert set(form.errors) == {"name", "email", "subject", "message"}

    def test_empty_fields_ask_for_what_is_missing(self):
        form = ContactForm(data={})

        form.is_valid()

        assert form.errors == {
            "name": ["Please tell me your name."],
            "email": ["Please give an email address to reply to."],
            "subject": ["Please add a subject."],
            "message": ["Please write a message."],
        }

    def test_labels_have_no_trailing_colon(self):
        form = ContactForm()

        label = form["name"].label_tag()

        assert label == '<label for="id_name">Your name</label>'

    def test_blank_after_folding_is_required(self):
        form = ContactForm(data=dict(VALID_POST, name=" \r\n ", subject="\t"))

        assert not form.is_valid()
        assert form.has_error("name", "required")
        assert form.has_error("subject", "required")

    def test_invalid_email_is_rejected(self):
        form = ContactForm(data=dict(VALID_POST, email="not-an-address"))

        assert not form.is_valid()
        assert form.has_error("email", "invalid")

    def test_overlong_fields_are_rejected(self):
        data = dict(VALID_POST, name="n" * 101, subject="s" * 151, message="m" * 5001)

        form = ContactForm(data=data)

        assert not form.is_valid()
        for field in ("name", "subject", "message"):
            assert form.has_error(field, "max_length")

    def test_save_stores_a_queued_message(self):
        form = ContactForm(data=VALID_POST)
        form.is_valid()

        with self.captureOnCommitCallbacks():
            message = form.save()

        message.refresh_from_db()
        assert message.status == ContactMessage.Status.QUEUED
        assert message.email == VALID_POST["email"]

    def test_rolled_back_save_leaves_no_row_and_no_job(self):
        form = ContactForm(data=VALID_POST)
        form.is_valid()

        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            try:
                with transaction.atomic():
                    form.save()
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass

        assert callbacks == []
        assert ContactMessage.objects.count() == 0
        assert queue.get_queue().count == 0
