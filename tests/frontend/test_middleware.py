from http import HTTPStatus

from django.test import Client, TestCase


class UnreadableFormMiddlewareTests(TestCase):
    def test_form_post_in_another_charset_gets_400_on_any_url(self):
        client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        client.get("/")
        latin1 = "application/x-www-form-urlencoded; charset=latin-1"

        codes = [
            client.post(url, "name=Z%FCrich", content_type=latin1).status_code
            for url in ("/", "/contact/", "/healthz", "/admin/login/")
        ]

        assert codes == [HTTPStatus.BAD_REQUEST] * 4

    def test_utf8_form_post_reaches_the_view(self):
        client = Client(enforce_csrf_checks=True)

        response = client.post(
            "/contact/",
            "name=x",
            content_type="application/x-www-form-urlencoded; charset=utf-8",
        )

        # The CSRF check ran on the readable body and refused it.
        assert response.status_code == HTTPStatus.FORBIDDEN
