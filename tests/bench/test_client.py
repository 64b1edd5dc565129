import urllib.parse

from django.test import SimpleTestCase

from bench.client import Visitor, read_form, server_ms, status_in

PAGE = """
<html><body hx-headers='{"X-CSRFToken": "masked-token"}'>
<form id="search"><input name="q" value="ignored"></form>
<form id="contact-form" method="post">
  <input type="hidden" name="csrfmiddlewaretoken" value="form-token">
  <input type="hidden" name="started" value="1700000000:signed">
  <input type="text" name="website" value="">
  <input type="text" name="name">
  <input type="email" name="email">
  <input type="checkbox" name="copy" value="yes">
  <textarea name="message">Hello &amp; welcome</textarea>
  <button type="submit" name="send" value="1">Send</button>
</form>
</body></html>
"""


class ReadFormTests(SimpleTestCase):
    def test_collects_every_input_of_the_form_with_its_value(self):
        fields, _ = read_form(PAGE)

        assert fields == {
            "csrfmiddlewaretoken": "form-token",
            "started": "1700000000:signed",
            "website": "",
            "name": "",
            "email": "",
            "message": "Hello & welcome",
        }

    def test_header_token_comes_from_the_bodys_hx_headers(self):
        _, token = read_form(PAGE)

        assert token == "masked-token"

    def test_header_token_falls_back_to_the_forms_hidden_input(self):
        page = PAGE.replace("hx-headers", "data-other")

        _, token = read_form(page)

        assert token == "form-token"

    def test_refuses_a_page_without_the_form(self):
        with self.assertRaises(ValueError):
            read_form("<html><body><form id='other'></form></body></html>")


class VisitorTests(SimpleTestCase):
    def make_visitor(self) -> Visitor:
        visitor = Visitor("127.0.0.1", 8000)
        visitor.fields, visitor.token = read_form(PAGE)
        visitor.cookies = {"csrftoken": "cookie-secret"}
        return visitor

    def test_form_body_fills_the_visible_fields_and_keeps_the_hidden_ones(self):
        visitor = self.make_visitor()

        body = urllib.parse.parse_qs(
            visitor.form_body("ada@example.com"), keep_blank_values=True
        )

        assert body["email"] == ["ada@example.com"]
        assert body["started"] == ["1700000000:signed"]
        assert body["csrfmiddlewaretoken"] == ["form-token"]
        assert body["website"] == [""]
        assert body["name"] and body["subject"] and body["message"]

    def test_post_headers_are_those_htmx_sends_with_the_csrf_cookie(self):
        visitor = self.make_visitor()

        headers = visitor.post_headers()

        assert headers["HX-Request"] == "true"
        assert headers["X-CSRFToken"] == "masked-token"
        assert headers["Cookie"] == "csrftoken=cookie-secret"
        assert headers["Origin"] == "http://127.0.0.1:8000"


class FragmentTests(SimpleTestCase):
    def test_status_in_reads_the_data_status_attribute(self):
        fragment = '<p id="contact-status" data-status="sent">Sent</p>'

        assert status_in(fragment) == "sent"
        assert status_in("<p>nothing</p>") is None

    def test_server_ms_reads_the_server_timing_header(self):
        headers = {"Server-Timing": "app;dur=2.345"}

        assert server_ms(headers) == 2.345
        assert server_ms({}) is None
