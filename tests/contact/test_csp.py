import json
import re

from django.contrib.auth import get_user_model
from django.test import TestCase
from django.urls import reverse

from .helpers import VALID_POST


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


class ContentSecurityPolicyTests(TestCase):
    def test_pages_allow_no_inline_code_and_no_eval(self):
        response = self.client.get(reverse("frontend:home"))

        csp = policy(response)
        assert csp["default-src"] == ["'self'"]
        assert csp["style-src"] == ["'self'"]
        assert csp["object-src"] == ["'none'"]
        assert csp["frame-ancestors"] == ["'none'"]
        everything = [source for sources in csp.values() for source in sources]
        assert "'unsafe-inline'" not in everything
        assert "'unsafe-eval'" not in everything

    def test_every_script_on_the_page_carries_the_policys_nonce(self):
        response = self.client.get(reverse("frontend:home"))

        nonce = re.fullmatch(r"'nonce-(.+)'", policy(response)["script-src"][1])[1]
        scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
        assert len(scripts) == 2
        for tag in scripts:
            assert f'nonce="{nonce}"' in tag
            assert "src=" in tag

    def test_htmx_is_told_not_to_inject_styles_or_evaluate_code(self):
        page = self.client.get(reverse("frontend:home")).content.decode()

        config = json.loads(
            re.search(r"name=\"htmx-config\" content='([^']+)'", page)[1]
        )
        assert config["includeIndicatorStyles"] is False
        assert config["allowEval"] is False

    def test_fragments_carry_the_policy_too(self):
        response = self.client.post(
            reverse("contact:form"), VALID_POST, HTTP_HX_REQUEST="true"
        )

        assert policy(response)["script-src"] == ["'self'"]

    def test_only_the_queue_dashboard_may_run_its_inline_scripts(self):
        staff = get_user_model().objects.create_superuser("o", "o@example.net", "pw")
        self.client.force_login(staff)

        admin = self.client.get(reverse("admin:index"))
        dashboards = [
            self.client.get(reverse("django_rq:home") + "anything/"),
            self.client.get(reverse("admin:django_rq_dashboard_changelist") + "x/"),
        ]

        assert "'unsafe-inline'" not in policy(admin)["script-src"]
        for dashboard in dashboards:
            assert "'unsafe-inline'" in policy(dashboard)["script-src"]
            assert "'unsafe-inline'" in policy(dashboard)["style-src"]
