import time
from http import HTTPStatus

from django.core import mail
from django.test import TestCase, override_settings

from contact import queue
from contact.models import ContactMessage
from tests.contact.helpers import VALID_POST


class SiteUrlsTests(TestCase):
    def test_the_site_never_serves_the_benchmarks_views(self):
        for path in ("/bench/trivial/", "/bench/contact-inline/"):
            response = self.client.get(path)

            assert response.status_code == HTTPStatus.NOT_FOUND


@override_settings(ROOT_URLCONF="bench.urls")
class BenchViewsTests(TestCase):
    def test_trivial_view_answers_ok(self):
        response = self.client.get("/bench/trivial/")

        assert response.status_code == HTTPStatus.OK
        assert response.content == b"ok"

    def test_inline_view_sends_both_emails_before_answering(self):
        response = self.client.post(
            "/bench/contact-inline/", VALID_POST, HTTP_HX_REQUEST="true"
        )

        message = ContactMessage.objects.get()
        assert response.status_code == HTTPStatus.OK
        assert message.reference in response.content.decode()
        assert [m.to for m in mail.outbox] == [["owner@example.net"], [message.email]]
        assert queue.get_queue().count == 0

    def test_thread_view_answers_then_sends_both_emails(self):
        response = self.client.post(
            "/bench/contact-thread/", VALID_POST, HTTP_HX_REQUEST="true"
        )

        deadline = time.monotonic() + 5
        while len(mail.outbox) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert response.status_code == HTTPStatus.OK
        assert len(mail.outbox) == 2
        assert queue.get_queue().count == 0

    def test_an_invalid_post_gets_the_form_back(self):
        response = self.client.post(
            "/bench/contact-inline/", {**VALID_POST, "email": "nope"}
        )

        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert not mail.outbox


@override_settings(ROOT_URLCONF="bench.urls")
class ServerTimingTests(TestCase):
    def test_bench_settings_time_every_request(self):
        with self.modify_settings(
            MIDDLEWARE={"prepend": "bench.middleware.server_timing"}
        ):
            response = self.client.get("/bench/trivial/")

        assert response["Server-Timing"].startswith("app;dur=")
