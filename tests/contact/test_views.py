import html.parser
import json
import re
from datetime import timedelta
from http import HTTPStatus
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from contact import queue
from contact.models import ContactMessage

from .helpers import VALID_POST, make_contact_message

HTMX = {"HTTP_HX_REQUEST": "true"}


class ContactFormViewTests(TestCase):
    url = reverse("contact:form")

    def test_htmx_post_saves_one_message_and_enqueues_one_job_after_commit(self):
        with self.captureOnCommitCallbacks() as callbacks:
            response = self.client.post(self.url, VALID_POST, **HTMX)
            assert queue.get_queue().count == 0

        for callback in callbacks:
            callback()

        assert response.status_code == HTTPStatus.OK
        message = ContactMessage.objects.get()
        assert queue.get_queue().job_ids == [message.job_id]
        job = queue.get_queue().fetch_job(message.job_id)
        assert job.args == (message.pk,)
        assert job.func_name == "contact.jobs.deliver_message"

    def test_htmx_post_renders_confirmation_with_polling_status(self):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url, VALID_POST, **HTMX)

        message = ContactMessage.objects.get()
        status_url = reverse("contact:status", args=[message.token])
        self.assertTemplateUsed(response, "contact/_confirmation.html")
        self.assertContains(response, message.reference)
        self.assertContains(response, 'data-status="queued"')
        self.assertContains(response, f'hx-get="{status_url}"')
        self.assertNotContains(response, "<html")

    def test_htmx_post_moves_the_address_bar_to_the_status_page(self):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url, VALID_POST, **HTMX)

        message = ContactMessage.objects.get()
        assert response.headers["HX-Push-Url"] == message.get_absolute_url()

    def test_invalid_htmx_post_keeps_the_address(self):
        response = self.client.post(self.url, dict(VALID_POST, email=""), **HTMX)

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert "HX-Push-Url" not in response.headers

    def test_nothing_is_enqueued_before_commit(self):
        with self.captureOnCommitCallbacks() as callbacks:
            self.client.post(self.url, VALID_POST, **HTMX)

        assert len(callbacks) == 1
        assert queue.get_queue().count == 0

    def test_invalid_htmx_post_shows_errors_and_keeps_text(self):
        data = dict(VALID_POST, email="nope", message="Keep this text")

        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url, data, **HTMX)

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        self.assertTemplateUsed(response, "contact/_form.html")
        self.assertContains(response, "Enter a valid email address.", status_code=422)
        self.assertContains(response, "Keep this text", status_code=422)
        self.assertContains(response, 'aria-invalid="true"', status_code=422)
        assert ContactMessage.objects.count() == 0
        assert queue.get_queue().count == 0

    def test_plain_post_redirects_to_status_page(self):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url, VALID_POST)

        message = ContactMessage.objects.get()
        self.assertRedirects(response, message.get_absolute_url())
        assert queue.get_queue().count == 1

    def test_invalid_plain_post_renders_full_page_with_errors(self):
        response = self.client.post(self.url, dict(VALID_POST, name=""))

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        self.assertTemplateUsed(response, "contact/contact_page.html")
        self.assertContains(response, "<html", status_code=422)
        assert ContactMessage.objects.count() == 0

    def test_form_answers_htmx_and_pages_differently(self):
        response = self.client.get(self.url)

        assert response.status_code == HTTPStatus.OK
        assert "HX-Request" in response.headers["Vary"]

    def test_enqueue_failure_still_confirms_and_keeps_the_row(self):
        down = RedisConnectionError("Connection refused")

        with mock.patch.object(queue.get_queue(), "enqueue", side_effect=down):
            with self.captureOnCommitCallbacks(execute=True):
                response = self.client.post(self.url, VALID_POST, **HTMX)

        assert response.status_code == HTTPStatus.OK
        message = ContactMessage.objects.get()
        assert message.status == ContactMessage.Status.QUEUED


class UploadTests(TestCase):
    def test_a_file_posted_with_the_form_is_dropped_unread(self):
        upload = SimpleUploadedFile("big.bin", b"x" * 3_000_000)

        with (
            mock.patch.object(TemporaryFileUploadHandler, "new_file") as spooled,
            self.captureOnCommitCallbacks(execute=True),
        ):
            response = self.client.post(
                reverse("contact:form"), {**VALID_POST, "file": upload}, **HTMX
            )

        assert response.status_code == HTTPStatus.OK
        assert ContactMessage.objects.count() == 1
        spooled.assert_not_called()


class MessageStatusViewTests(TestCase):
    def status_url(self, message):
        return reverse("contact:status", args=[message.token])

    def test_unfinished_status_keeps_polling(self):
        message = make_contact_message(status=ContactMessage.Status.SENDING)

        response = self.client.get(self.status_url(message), **HTMX)

        assert response.status_code == HTTPStatus.OK
        self.assertTemplateUsed(response, "contact/_status.html")
        self.assertContains(response, 'data-status="sending"')
        self.assertContains(response, "hx-trigger")

    def test_a_message_waiting_for_its_retry_says_it_was_delayed(self):
        message = make_contact_message(
            status=ContactMessage.Status.SENDING,
            attempts=1,
            last_error="SMTPConnectError: (421, 'Try later')",
        )

        response = self.client.get(self.status_url(message), **HTMX)

        self.assertContains(response, "a temporary problem delayed it")

    def test_final_status_stops_polling_with_286(self):
        message = make_contact_message(status=ContactMessage.Status.SENT)

        response = self.client.get(self.status_url(message), **HTMX)

        assert response.status_code == 286
        self.assertContains(response, 'data-status="sent"', status_code=286)
        self.assertNotContains(response, "hx-trigger", status_code=286)

    def test_failed_status_stops_polling(self):
        message = make_contact_message(status=ContactMessage.Status.FAILED)

        response = self.client.get(self.status_url(message), **HTMX)

        assert response.status_code == 286
        self.assertContains(response, 'data-status="failed"', status_code=286)

    def test_polling_stops_after_the_time_limit(self):
        message = make_contact_message()

        with self.settings(CONTACT_POLL_SECONDS=-1):
            response = self.client.get(self.status_url(message), **HTMX)

        assert response.status_code == 286
        self.assertContains(response, 'data-status="queued"', status_code=286)
        self.assertContains(response, "still on its way", status_code=286)
        self.assertNotContains(response, "hx-trigger", status_code=286)

    def test_plain_get_renders_the_full_status_page(self):
        message = make_contact_message()

        response = self.client.get(self.status_url(message))

        assert response.status_code == HTTPStatus.OK
        self.assertTemplateUsed(response, "contact/status_page.html")
        self.assertContains(response, 'data-status="queued"')
        self.assertContains(response, 'http-equiv="refresh"')

    def test_history_restore_gets_the_full_status_page(self):
        message = make_contact_message()

        response = self.client.get(
            self.status_url(message), HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
        )

        assert response.status_code == HTTPStatus.OK
        self.assertTemplateUsed(response, "contact/status_page.html")
        self.assertContains(response, "<html")

    def test_status_is_never_cached_and_varies_on_htmx(self):
        message = make_contact_message()

        response = self.client.get(self.status_url(message), **HTMX)

        assert "no-store" in response.headers["Cache-Control"]
        assert "HX-Request" in response.headers["Vary"]

    def test_wrong_token_is_404(self):
        make_contact_message()

        response = self.client.get(reverse("contact:status", args=["x" * 32]))

        assert response.status_code == HTTPStatus.NOT_FOUND

    def test_malformed_token_is_404(self):
        response = self.client.get("/contact/status/not%20a%20token!/")

        assert response.status_code == HTTPStatus.NOT_FOUND

    def test_status_url_carries_the_token_not_the_id(self):
        message = make_contact_message()

        url = self.status_url(message)

        assert message.token in url
        assert f"/{message.pk}/" not in url
        assert len(message.token) >= 22  # 128 bits in URL-safe base64

    def test_status_reads_only_the_database(self):
        message = make_contact_message(status=ContactMessage.Status.SENT)

        with mock.patch.object(queue, "get_redis", side_effect=AssertionError):
            response = self.client.get(self.status_url(message), **HTMX)

        assert response.status_code == 286


SCRIPT = "<script>alert(1)</script>"


def without_ids(html: str, message: ContactMessage) -> str:
    return html.replace(message.reference, "REF").replace(message.token, "TOKEN")


class SpamResponseTests(TestCase):
    url = reverse("contact:form")

    def test_a_bot_gets_the_confirmation_a_person_gets(self):
        with self.captureOnCommitCallbacks(execute=True):
            person = self.client.post(self.url, VALID_POST, **HTMX)
            bot = self.client.post(self.url, dict(VALID_POST, website="x"), **HTMX)

        kept, held = ContactMessage.objects.order_by("created_at")
        assert held.is_spam and not kept.is_spam
        assert bot.status_code == person.status_code == HTTPStatus.OK
        assert without_ids(bot.content.decode(), held) == without_ids(
            person.content.decode(), kept
        )
        assert queue.get_queue().job_ids == [kept.job_id]

    def test_polling_a_held_message_ends_on_sent(self):
        message = make_contact_message(
            is_spam=True,
            spam_reason="the hidden field was filled in",
            created_at=timezone.now() - timedelta(seconds=2),
        )

        response = self.client.get(
            reverse("contact:status", args=[message.token]), **HTMX
        )

        assert response.status_code == 286
        self.assertContains(response, 'data-status="sent"', status_code=286)
        self.assertContains(response, "your message arrived", status_code=286)
        self.assertNotContains(response, "hx-trigger", status_code=286)

    def test_a_held_message_ends_in_the_words_a_persons_first_message_does(self):
        person = make_contact_message(
            status=ContactMessage.Status.SENT,
            owner_email_status=ContactMessage.EmailStatus.SENT,
            autoreply_status=ContactMessage.EmailStatus.SENT,
        )
        bot = make_contact_message(
            is_spam=True,
            spam_reason="the hidden field was filled in",
            owner_email_status=ContactMessage.EmailStatus.SKIPPED,
            autoreply_status=ContactMessage.EmailStatus.SKIPPED,
            created_at=timezone.now() - timedelta(seconds=2),
        )

        responses = [
            self.client.get(reverse("contact:status", args=[m.token]), **HTMX)
            for m in (person, bot)
        ]

        assert without_ids(responses[1].content.decode(), bot) == without_ids(
            responses[0].content.decode(), person
        )
        self.assertContains(responses[1], "confirmation is on its way", status_code=286)

    def test_a_second_held_message_from_one_address_reads_as_a_persons_second(self):
        an_hour_ago = timezone.now() - timedelta(hours=1)
        make_contact_message(
            email="bot@example.com",
            status=ContactMessage.Status.SENT,
            owner_email_status=ContactMessage.EmailStatus.SENT,
            autoreply_status=ContactMessage.EmailStatus.SENT,
            created_at=an_hour_ago,
        )
        held = make_contact_message(
            email="BOT@example.com",
            is_spam=True,
            spam_reason="the hidden field was filled in",
            owner_email_status=ContactMessage.EmailStatus.SKIPPED,
            autoreply_status=ContactMessage.EmailStatus.SKIPPED,
            created_at=timezone.now() - timedelta(seconds=2),
        )

        response = self.client.get(reverse("contact:status", args=[held.token]), **HTMX)

        self.assertContains(response, "your message arrived.", status_code=286)
        self.assertNotContains(response, "confirmation", status_code=286)

    def test_a_plain_post_of_a_bot_follows_the_usual_redirect(self):
        response = self.client.post(self.url, dict(VALID_POST, website="x"))

        message = ContactMessage.objects.get()
        self.assertRedirects(response, message.get_absolute_url())
        assert message.is_spam


@override_settings(CONTACT_RATE_LIMIT_PER_IP="2/m", CONTACT_RATE_LIMIT_PER_EMAIL=None)
class RateLimitViewTests(TestCase):
    url = reverse("contact:form")

    def post(self, htmx=True, **fields):
        data = dict(VALID_POST, **fields)
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, data, **(HTMX if htmx else {}))

    def test_over_the_limit_htmx_gets_429_with_the_form_and_when_to_retry(self):
        self.post(email="a@example.com")
        self.post(email="b@example.com")

        response = self.post(email="c@example.com", message="Keep me")

        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
        self.assertTemplateUsed(response, "contact/_form.html")
        self.assertContains(response, "try again in a minute", status_code=429)
        self.assertContains(response, "Keep me", status_code=429)
        self.assertNotContains(response, "<html", status_code=429)
        assert 1 <= int(response["Retry-After"]) <= 60
        assert ContactMessage.objects.count() == 2
        assert queue.get_queue().count == 2

    def test_over_the_limit_without_javascript_gets_the_full_page(self):
        self.post(htmx=False)
        self.post(htmx=False)

        response = self.post(htmx=False)

        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
        self.assertContains(response, "<html", status_code=429)
        self.assertContains(response, "try again in", status_code=429)
        assert ContactMessage.objects.count() == 2

    def test_invalid_posts_do_not_count(self):
        for _ in range(3):
            self.post(email="nope")

        response = self.post()

        assert response.status_code == HTTPStatus.OK

    @override_settings(
        CONTACT_RATE_LIMIT_PER_IP=None, CONTACT_RATE_LIMIT_PER_EMAIL="1/h"
    )
    def test_the_sender_address_is_limited_whatever_its_case(self):
        self.post(email="grace@example.com")

        again = self.post(email="GRACE@Example.com")
        other = self.post(email="ada@example.com")

        # django-ratelimit counts in fixed windows, so the wait is what is left
        # of the current hour.
        assert again.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert re.search(r"try again in (a minute|\d+ minutes)", again.text)
        assert other.status_code == HTTPStatus.OK

    @override_settings(TRUST_X_FORWARDED_FOR=1)
    def test_behind_a_trusted_proxy_the_rightmost_forwarded_address_counts(self):
        def post_via(forwarded_for):
            with self.captureOnCommitCallbacks(execute=True):
                return self.client.post(
                    self.url, VALID_POST, HTTP_X_FORWARDED_FOR=forwarded_for, **HTMX
                )

        post_via("10.0.0.1, 203.0.113.5")
        post_via("10.0.0.2, 203.0.113.5")

        forged = post_via("10.0.0.3, 203.0.113.5")
        someone_else = post_via("203.0.113.6")

        assert forged.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert someone_else.status_code == HTTPStatus.OK

    def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(self):
        for i in range(2):
            self.client.post(
                self.url, VALID_POST, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}", **HTMX
            )

        response = self.client.post(
            self.url, VALID_POST, HTTP_X_FORWARDED_FOR="198.51.100.9", **HTMX
        )

        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


class CsrfTests(TestCase):
    def setUp(self):
        self.client = Client(enforce_csrf_checks=True)

    def hx_headers(self) -> dict:
        page = self.client.get(reverse("frontend:home")).content.decode()
        parser = BodyAttributes()
        parser.feed(page)
        return json.loads(parser.attributes["hx-headers"])

    def test_a_post_without_a_token_is_refused(self):
        response = self.client.post(reverse("contact:form"), VALID_POST, **HTMX)

        assert response.status_code == HTTPStatus.FORBIDDEN
        assert ContactMessage.objects.count() == 0

    def test_htmx_sends_the_token_from_the_bodys_json_header(self):
        headers = self.hx_headers()

        response = self.client.post(
            reverse("contact:form"),
            VALID_POST,
            HTTP_X_CSRFTOKEN=headers["X-CSRFToken"],
            **HTMX,
        )

        assert list(headers) == ["X-CSRFToken"]
        assert response.status_code == HTTPStatus.OK
        assert ContactMessage.objects.count() == 1

    def test_a_post_from_another_site_gets_no_form_with_its_text(self):
        response = self.client.post(
            reverse("contact:form"),
            dict(VALID_POST, message="Text chosen by another site"),
            HTTP_ORIGIN="https://elsewhere.example",
        )

        assert response.status_code == HTTPStatus.FORBIDDEN
        self.assertNotContains(response, "chosen by another site", status_code=403)
        self.assertNotContains(response, "security check had expired", status_code=403)

    def test_an_htmx_post_refused_for_its_origin_still_gets_the_form(self):
        # Only a misconfigured proxy makes the site's own htmx post look
        # foreign; a page swapped into the form's box would help no one.
        response = self.client.post(
            reverse("contact:form"),
            VALID_POST,
            HTTP_ORIGIN="http://site.example",
            **HTMX,
        )

        assert response.status_code == HTTPStatus.FORBIDDEN
        self.assertTemplateUsed(response, "contact/_form.html")
        self.assertNotContains(response, "<html", status_code=403)

    def test_a_refused_htmx_post_gets_its_form_back_with_the_text_kept(self):
        response = self.client.post(reverse("contact:form"), VALID_POST, **HTMX)

        assert response.status_code == HTTPStatus.FORBIDDEN
        self.assertTemplateUsed(response, "contact/_form.html")
        self.assertNotContains(response, "<html", status_code=403)
        self.assertContains(response, "security check had expired", status_code=403)
        for name in ("name", "email", "subject", "message"):
            self.assertContains(response, VALID_POST[name], status_code=403)
        assert "HX-Request" in response.headers["Vary"]

    def test_a_refused_plain_post_gets_the_contact_page_back(self):
        response = self.client.post(reverse("contact:form"), VALID_POST)

        assert response.status_code == HTTPStatus.FORBIDDEN
        self.assertTemplateUsed(response, "contact/contact_page.html")
        self.assertContains(response, VALID_POST["message"], status_code=403)

    def test_the_refused_form_carries_a_token_that_works(self):
        refused = self.client.post(reverse("contact:form"), VALID_POST, **HTMX)
        token = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', refused.content.decode()
        )[1]

        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                reverse("contact:form"),
                dict(VALID_POST, csrfmiddlewaretoken=token),
                **HTMX,
            )

        assert "csrftoken" in refused.cookies
        assert response.status_code == HTTPStatus.OK
        assert ContactMessage.objects.count() == 1

    def test_the_refused_form_keeps_the_time_it_was_started(self):
        started = "signed-start-time"

        response = self.client.post(
            reverse("contact:form"), dict(VALID_POST, started=started), **HTMX
        )

        self.assertContains(response, f'value="{started}"', status_code=403)

    def test_other_refused_posts_get_djangos_page(self):
        response = self.client.post(reverse("admin:login"), {"username": "x"})

        assert response.status_code == HTTPStatus.FORBIDDEN
        self.assertContains(response, "CSRF verification failed", status_code=403)
        self.assertNotContains(response, "contact-form", status_code=403)

    def test_the_status_endpoint_needs_no_token(self):
        message = make_contact_message()

        response = self.client.get(message.get_absolute_url(), **HTMX)

        assert response.status_code == HTTPStatus.OK

    def test_the_status_endpoint_refuses_posts(self):
        message = make_contact_message()

        response = self.client.post(message.get_absolute_url())

        assert response.status_code in (
            HTTPStatus.FORBIDDEN,
            HTTPStatus.METHOD_NOT_ALLOWED,
        )


class BodyAttributes(html.parser.HTMLParser):
    """Collect the attributes of <body>, unescaped as a browser reads them."""

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.attributes = dict(attrs)


class EscapingTests(TestCase):
    url = reverse("contact:form")

    def test_the_form_with_errors_escapes_what_was_typed(self):
        data = {field: SCRIPT for field in VALID_POST}

        response = self.client.post(self.url, data, **HTMX)

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert SCRIPT not in response.content.decode()
        self.assertContains(response, "&lt;script&gt;", status_code=422)

    def test_the_rate_limited_form_escapes_what_was_typed(self):
        data = dict(VALID_POST, name=SCRIPT, subject=SCRIPT, message=SCRIPT)

        with self.settings(CONTACT_RATE_LIMIT_PER_IP="1/m"):
            self.client.post(self.url, data, **HTMX)
            response = self.client.post(self.url, data, **HTMX)

        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert SCRIPT not in response.content.decode()
        self.assertContains(response, "&lt;script&gt;", status_code=429)

    def test_the_confirmation_and_status_page_never_show_visitor_text(self):
        data = dict(VALID_POST, name=SCRIPT, subject=SCRIPT, message=SCRIPT)

        confirmation = self.client.post(self.url, data, **HTMX)
        page = self.client.get(ContactMessage.objects.get().get_absolute_url())

        for response in (confirmation, page):
            assert response.status_code == HTTPStatus.OK
            assert "alert(1)" not in response.content.decode()


class VaryTests(TestCase):
    def test_every_answer_of_the_form_url_varies_on_htmx(self):
        url = reverse("contact:form")

        responses = [
            self.client.post(url, VALID_POST, **HTMX),
            self.client.post(url, dict(VALID_POST, email="nope")),
            self.client.get(url),
        ]

        for response in responses:
            assert "HX-Request" in response.headers["Vary"]


class HeadRequestTests(TestCase):
    def test_pages_and_the_health_check_answer_head(self):
        message = make_contact_message()
        urls = [
            reverse("frontend:home"),
            reverse("contact:form"),
            reverse("contact:status", args=[message.token]),
            reverse("healthz"),
        ]

        codes = [self.client.head(url).status_code for url in urls]

        # Each answers HEAD as it answers GET (the health check may be 503).
        assert codes == [self.client.get(url).status_code for url in urls]
        assert codes[:3] == [HTTPStatus.OK] * 3
