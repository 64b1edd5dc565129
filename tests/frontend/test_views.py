from django.test import SimpleTestCase


class FaviconTests(SimpleTestCase):
    def test_the_usual_icon_path_leads_to_the_sites_icon(self):
        response = self.client.get("/favicon.ico")

        self.assertRedirects(
            response,
            "/static/frontend/favicon.svg",
            status_code=301,
            fetch_redirect_response=False,
        )
