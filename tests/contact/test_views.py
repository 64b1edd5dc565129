from http import HTTPStatus
from unittest import mock

from django.test import TestCase
from django.urls import reverse
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
