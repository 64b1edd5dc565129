from http import HTTPStatus

from django.template.loader import render_to_string
from django.test import TestCase


class ErrorPageTests(TestCase):
    def test_a_missing_page_is_a_page_of_the_site(self):
        response = self.client.get("/contact/status/no-such-token/")

        assert response.status_code == HTTPStatus.NOT_FOUND
        self.assertContains(
            response, "<h1>Page not found</h1>", status_code=HTTPStatus.NOT_FOUND
        )
        self.assertContains(response, "site-header", status_code=HTTPStatus.NOT_FOUND)

    def test_the_server_error_page_renders_without_a_request(self):
        page = render_to_string("500.html")

        assert "<h1>Something went wrong</h1>" in page
