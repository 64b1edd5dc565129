from django.test import TestCase, override_settings

from contact import emails

from .helpers import make_contact_message


class MessageIdTests(TestCase):
    def test_each_email_of_a_message_has_its_own_stable_message_id(self):
        message = make_contact_message()

        first = emails.owner_notification(message).extra_headers["Message-ID"]
        again = emails.owner_notification(message).extra_headers["Message-ID"]
        reply = emails.autoreply(message).extra_headers["Message-ID"]

        assert first == again == f"<{message.reference}.owner_notification@example.org>"
        assert reply == f"<{message.reference}.autoreply@example.org>"

    def test_a_resend_the_owner_asked_for_gets_a_new_message_id(self):
        message = make_contact_message(resends=2)

        email = emails.owner_notification(message)

        assert email.extra_headers["Message-ID"] == (
            f"<{message.reference}.owner_notification.2@example.org>"
        )

    @override_settings(EMAIL_BACKEND="anymail.backends.postmark.EmailBackend")
    def test_email_services_assign_their_own_ids(self):
        message = make_contact_message()

        email = emails.owner_notification(message)

        assert "Message-ID" not in email.extra_headers


class OwnerNotificationTests(TestCase):
    def test_reply_to_quotes_a_name_with_a_comma(self):
        message = make_contact_message(name="Doe, Jane")

        email = emails.owner_notification(message)

        assert email.reply_to == ['"Doe, Jane" <grace@example.com>']
        assert email.to == ["owner@example.net"]


class OwnerNotificationEscapingTests(TestCase):
    def test_the_html_version_escapes_every_field(self):
        script = "<script>alert(1)</script>"
        message = make_contact_message(name=script, subject=script, message=script)

        html, _ = emails.owner_notification(message).alternatives[0]

        assert script not in html
        assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3

    def test_the_auto_reply_is_marked_as_an_automatic_answer(self):
        message = make_contact_message()

        reply = emails.autoreply(message).message()
        owner = emails.owner_notification(message).message()

        assert reply["Auto-Submitted"] == "auto-replied"
        assert owner["Auto-Submitted"] is None

    @override_settings(EMAIL_BACKEND="anymail.backends.postmark.EmailBackend")
    def test_email_services_get_the_auto_reply_mark_too(self):
        reply = emails.autoreply(make_contact_message())

        assert reply.extra_headers == {"Auto-Submitted": "auto-replied"}

    def test_the_auto_reply_never_repeats_the_visitors_words(self):
        message = make_contact_message(
            name="Cheap pills", subject="BUY NOW", message="http://spam.example"
        )

        email = emails.autoreply(message)

        text = email.subject + email.body + email.alternatives[0][0]
        for words in ("Cheap pills", "BUY NOW", "spam.example"):
            assert words not in text
