import re
import time

from django.core import signing
from django.db import transaction
from django.test import TestCase, override_settings

from contact import queue
from contact.forms import STARTED_SALT, ContactForm
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

    def test_a_line_break_counts_as_one_character_as_in_the_browser(self):
        # A text area at its maxlength, posted with CRLF line breaks.
        message = "\r\n".join(["x" * 49] * 100)

        form = ContactForm(data=dict(VALID_POST, message=message))

        assert form.is_valid(), form.errors
        assert form.cleaned_data["message"] == message.replace("\r\n", "\n")

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


class MessageLimitTests(TestCase):
    def test_the_text_area_states_its_limit_and_is_described_by_it(self):
        html = ContactForm()["message"].as_field_group()

        assert 'maxlength="5000"' in html
        assert 'aria-describedby="id_message_helptext"' in html
        assert re.search(r'id="id_message_helptext">Up to 5,000 characters\.<', html)


def started_seconds_ago(seconds: float) -> str:
    """Return the form's signed timestamp as if served ``seconds`` ago."""
    return signing.dumps(time.time() - seconds, salt=STARTED_SALT)


@override_settings(CONTACT_MIN_FILL_SECONDS=3)
class SpamGuardTests(TestCase):
    def test_a_person_who_took_their_time_is_not_spam(self):
        form = ContactForm(data=dict(VALID_POST, started=started_seconds_ago(20)))

        assert form.is_valid(), form.errors
        assert not form.is_spam

    def test_a_filled_hidden_field_is_held_as_spam(self):
        data = dict(VALID_POST, started=started_seconds_ago(20), website="spam.example")

        form = ContactForm(data=data)

        assert form.is_valid(), form.errors
        assert form.spam_reason == "the hidden field was filled in"

    def test_a_post_faster_than_a_person_types_is_held_as_spam(self):
        form = ContactForm(data=dict(VALID_POST, started=started_seconds_ago(0.5)))

        assert form.is_valid(), form.errors
        assert form.spam_reason.startswith("posted 0.5 s after")

    def test_a_missing_or_altered_timestamp_is_held_as_spam(self):
        forged = started_seconds_ago(20)[:-2] + "xx"

        for started in ("", forged, "1700000000"):
            form = ContactForm(data=dict(VALID_POST, started=started))

            assert form.is_valid(), form.errors
            assert form.spam_reason == "the form's timestamp was missing or altered"

    @override_settings(CONTACT_MIN_FILL_SECONDS=0)
    def test_zero_seconds_switches_the_time_trap_off(self):
        form = ContactForm(data=VALID_POST)

        assert form.is_valid(), form.errors
        assert not form.is_spam

    def test_a_new_form_carries_a_fresh_signed_timestamp(self):
        html = str(ContactForm())

        value = re.search(r'name="started" value="([^"]+)"', html)[1]
        age = time.time() - signing.loads(value, salt=STARTED_SALT)
        assert 0 <= age < 5

    def test_the_hidden_field_is_hidden_from_people(self):
        html = str(ContactForm()["website"])

        assert html.startswith('<div class="contact-form__trap" hidden>')
        assert 'tabindex="-1"' in html
        assert 'autocomplete="off"' in html

    def test_spam_is_saved_with_both_emails_skipped_and_no_job(self):
        form = ContactForm(data=dict(VALID_POST, website="x"))
        form.is_valid()

        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            message = form.save()

        message.refresh_from_db()
        assert message.is_spam
        assert message.spam_reason == "the hidden field was filled in"
        assert message.owner_email_status == ContactMessage.EmailStatus.SKIPPED
        assert message.autoreply_status == ContactMessage.EmailStatus.SKIPPED
        assert callbacks == []
        assert queue.get_queue().count == 0


class EmailFieldTests(TestCase):
    def test_an_internationalised_domain_is_accepted_as_typed(self):
        form = ContactForm(data=dict(VALID_POST, email="zoe@bücher.example"))

        assert form.is_valid(), form.errors
        assert form.cleaned_data["email"] == "zoe@bücher.example"

    def test_a_non_ascii_local_part_is_a_clear_field_error(self):
        form = ContactForm(data=dict(VALID_POST, email="jürgen@example.com"))

        assert not form.is_valid()
        assert form.has_error("email", "invalid")

    def test_quotes_and_control_characters_are_refused(self):
        for email in ('"a b"@example.com', '"a\x01"@example.com', "a\\b@example.com"):
            form = ContactForm(data=dict(VALID_POST, email=email))

            assert not form.is_valid(), email
            assert form.has_error("email", "invalid")

    def test_a_second_address_cannot_ride_along(self):
        for email in (
            "a@example.com, b@example.com",
            "a@example.com\r\nBcc: b@example.com",
            "Jane <a@example.com>",
        ):
            form = ContactForm(data=dict(VALID_POST, email=email))

            assert not form.is_valid(), email

    def test_one_mailbox_has_one_spelling(self):
        spellings = [
            "hans@bücher.example",
            "hans@xn--bcher-kva.example",
            "hans@BÜCHER.example",
            "hans@ｂüｃｈｅｒ.example",
        ]

        cleaned = []
        for email in spellings:
            form = ContactForm(data=dict(VALID_POST, email=email))
            assert form.is_valid(), (email, form.errors)
            cleaned.append(form.cleaned_data["email"])

        assert set(cleaned) == {"hans@bücher.example"}

    def test_a_domain_without_an_ascii_form_is_a_clear_field_error(self):
        for email in (
            "x@" + "ü" * 60 + ".com",
            "shy@\u00ad\u00ad.com",
            "bad@bad\ufffddomain.com",
        ):
            form = ContactForm(data=dict(VALID_POST, email=email))

            assert not form.is_valid(), email
            assert form.has_error("email", "invalid")

    def test_a_domain_without_a_dot_is_refused(self):
        form = ContactForm(data=dict(VALID_POST, email="root@localhost"))

        assert not form.is_valid()
        assert form.has_error("email", "invalid")

    def test_an_ip_address_instead_of_a_domain_is_refused(self):
        form = ContactForm(data=dict(VALID_POST, email="ip@[127.0.0.1]"))

        assert not form.is_valid()
        assert form.has_error("email", "invalid")


class InvisibleCharacterTests(TestCase):
    def test_text_reversing_characters_are_removed_from_the_name(self):
        form = ContactForm(data=dict(VALID_POST, name="Ada \u202egnp.exe\u202c"))

        assert form.is_valid(), form.errors
        assert form.cleaned_data["name"] == "Ada gnp.exe"

    def test_a_subject_of_zero_width_characters_is_empty(self):
        form = ContactForm(data=dict(VALID_POST, subject="\u200b\ufeff\u200b"))

        assert not form.is_valid()
        assert form.has_error("subject", "required")

    def test_fields_of_characters_that_draw_nothing_are_empty(self):
        blank = "\u200b\u200c\u200d\u2060\u00ad\u200e\u180e\u034f\u3164\u2800\U000e0020"

        form = ContactForm(
            data=dict(VALID_POST, name=blank, subject=blank, message=blank + "\n")
        )

        assert not form.is_valid()
        for field in ("name", "subject", "message"):
            assert form.has_error(field, "required")

    def test_joiners_inside_words_and_emoji_are_kept(self):
        family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
        persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"

        form = ContactForm(data=dict(VALID_POST, name=persian, subject=family))

        assert form.is_valid(), form.errors
        assert form.cleaned_data["name"] == persian
        assert form.cleaned_data["subject"] == family
