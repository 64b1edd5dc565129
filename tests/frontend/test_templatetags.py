import html.parser
import json

from django.template import Context, Template
from django.test import SimpleTestCase


class BodyAttributes(html.parser.HTMLParser):
    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.attributes = dict(attrs)


class HtmxCsrfHeadersTests(SimpleTestCase):
    def render(self, token: str) -> dict:
        template = Template(
            '{% load htmx_headers %}<body hx-headers="{% htmx_csrf_headers %}">'
        )
        parser = BodyAttributes()
        parser.feed(template.render(Context({"csrf_token": token})))
        return json.loads(parser.attributes["hx-headers"])

    def test_the_header_is_valid_json_whatever_the_token(self):
        for token in ("abc123", 'quo"te', "back\\slash", "</body><script>", "é ☃"):
            assert self.render(token) == {"X-CSRFToken": token}
