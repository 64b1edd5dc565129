"""The Turnstile check, against a verify endpoint each test serves itself."""

import http.server
import json
import threading
import time
from http import HTTPStatus
from urllib.parse import parse_qs

from django.test import TestCase, override_settings

from contact import captcha
from contact.forms import ContactForm
from contact.models import ContactMessage

from .helpers import VALID_POST


class FakeVerifyEndpoint:
    """A local HTTP server answering as Cloudflare's siteverify would.

    ``answer`` is the JSON body (or raw bytes) it sends; ``delay`` makes it
    wait before answering; ``requests`` keeps the form fields it received.
    """

    def __init__(self):
        self.answer = {"success": True, "error-codes": []}
        self.delay = 0.0
        self.requests = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                endpoint.requests.append(parse_qs(self.rfile.read(length).decode()))
                time.sleep(endpoint.delay)
                body = endpoint.answer
                if not isinstance(body, bytes):
                    body = json.dumps(body).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the form stopped waiting, as it should

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        ).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/siteverify"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class CaptchaTestCase(TestCase):
    def setUp(self):
        self.endpoint = FakeVerifyEndpoint()
        self.addCleanup(self.endpoint.stop)
        overrides = override_settings(
            TURNSTILE_SITE_KEY="site-key",
            TURNSTILE_SECRET_KEY="secret-key",
            TURNSTILE_VERIFY_URL=self.endpoint.url,
            TURNSTILE_TIMEOUT=0.5,
        )
        overrides.enable()
        self.addCleanup(overrides.disable)

    def post(self, token="token-from-widget"):
        data = dict(VALID_POST)
        if token is not None:
            data[captcha.RESPONSE_FIELD] = token
        return ContactForm(data=data, client_ip="203.0.113.9")


class CaptchaSettingsTests(TestCase):
    def test_off_by_default(self):
        assert not captcha.enabled()
        assert "captcha" not in ContactForm().fields

    @override_settings(TURNSTILE_SITE_KEY="site-key", TURNSTILE_SECRET_KEY="")
    def test_needs_both_keys(self):
        assert not captcha.enabled()


class CaptchaFormTests(CaptchaTestCase):
    def test_the_form_shows_the_widget_and_loads_cloudflares_script(self):
        form = ContactForm()

        html = str(form["captcha"])
        media = str(form.media)

        assert html == '<div class="cf-turnstile" data-sitekey="site-key"></div>'
        assert f'<script src="{captcha.SCRIPT_URL}" defer></script>' in media
        assert "contact/captcha.js" in media

    def test_an_accepted_token_saves_a_normal_message(self):
        form = self.post()

        assert form.is_valid(), form.errors
        assert not form.is_spam
        sent = self.endpoint.requests[0]
        assert sent["secret"] == ["secret-key"]
        assert sent["response"] == ["token-from-widget"]
        assert sent["remoteip"] == ["203.0.113.9"]

    def test_a_missing_token_is_a_field_error(self):
        form = self.post(token=None)

        assert not form.is_valid()
        assert form.has_error("captcha", "required")
        assert self.endpoint.requests == []

    def test_a_refused_token_is_a_field_error(self):
        self.endpoint.answer = {"success": False, "error-codes": ["invalid-input"]}

        form = self.post()

        assert not form.is_valid()
        assert form.has_error("captcha", "invalid")

    def test_a_silent_endpoint_holds_the_message_for_review_within_the_timeout(self):
        self.endpoint.delay = 3

        started = time.monotonic()
        form = self.post()
        valid = form.is_valid()
        took = time.monotonic() - started

        assert valid, form.errors
        assert form.spam_reason == "the human check could not be verified"
        # Well before the endpoint would have answered.
        assert took < self.endpoint.delay

    def test_an_answer_that_is_not_cloudflares_holds_the_message(self):
        for answer in (b"<html>502 Bad Gateway</html>", {"ok": True}, ["success"]):
            self.endpoint.answer = answer

            form = self.post()

            assert form.is_valid(), form.errors
            assert form.is_spam

    def test_an_unreachable_endpoint_holds_the_message(self):
        self.endpoint.stop()

        form = self.post()

        assert form.is_valid(), form.errors
        assert form.is_spam

    def test_an_overlong_token_is_refused_without_asking(self):
        form = self.post(token="t" * (captcha.MAX_TOKEN_LENGTH + 1))

        assert not form.is_valid()
        assert self.endpoint.requests == []


class CaptchaViewTests(CaptchaTestCase):
    def test_a_held_message_is_saved_as_spam_and_confirmed(self):
        self.endpoint.delay = 3

        response = self.client.post(
            "/contact/",
            dict(VALID_POST, **{captcha.RESPONSE_FIELD: "t"}),
            HTTP_HX_REQUEST="true",
        )

        assert response.status_code == HTTPStatus.OK
        message = ContactMessage.objects.get()
        assert message.is_spam
        self.assertContains(response, message.reference)
