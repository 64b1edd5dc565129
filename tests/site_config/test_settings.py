"""Settings read from the environment, checked in a fresh interpreter each."""

import json
import subprocess
import sys
from pathlib import Path

from django.test import SimpleTestCase

ROOT = Path(__file__).resolve().parents[2]

PRINT = """
import json
from site_config import settings as s
print(json.dumps({
    "EMAIL_BACKEND": s.EMAIL_BACKEND,
    "ANYMAIL": s.ANYMAIL,
    "RETENTION": s.CONTACT_RETENTION_DAYS,
    "PROXY": getattr(s, "SECURE_PROXY_SSL_HEADER", None),
    "RQ_CERT_REQS": s.RQ_QUEUES["default"]["SSL_CERT_REQS"],
    "RQ_URL": s.RQ_QUEUES["default"]["URL"],
}))
"""


def load_settings(**env) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PRINT],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


class SettingsTests(SimpleTestCase):
    def test_email_url_picks_the_backend_by_default(self):
        loaded = load_settings(EMAIL_URL="smtp+tls://u:p@smtp.example.com:587")

        assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
        assert loaded["ANYMAIL"] == {}

    def test_an_email_service_is_chosen_by_settings_alone(self):
        loaded = load_settings(
            EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
            ANYMAIL_POSTMARK_SERVER_TOKEN="made-up-token",
            ANYMAIL_WEBHOOK_SECRET="user:password",
        )

        assert loaded["EMAIL_BACKEND"] == "anymail.backends.postmark.EmailBackend"
        assert loaded["ANYMAIL"] == {
            "POSTMARK_SERVER_TOKEN": "made-up-token",
            "WEBHOOK_SECRET": "user:password",
        }

    def test_the_worker_and_dashboard_get_the_same_tls_redis(self):
        url = "rediss://:secret@redis.example.com:6380"

        loaded = load_settings(REDIS_URL=url, REDIS_SSL_VERIFY="0")

        assert loaded["RQ_URL"] == url
        assert loaded["RQ_CERT_REQS"] == "none"

    def test_retention_and_proxy_header_come_from_the_environment(self):
        loaded = load_settings(CONTACT_RETENTION_DAYS="90", TRUST_X_FORWARDED_PROTO="1")

        assert loaded["RETENTION"] == 90
        assert loaded["PROXY"] == ["HTTP_X_FORWARDED_PROTO", "https"]

    def test_proxy_header_is_not_trusted_by_default(self):
        assert load_settings()["PROXY"] is None
