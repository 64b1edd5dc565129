"""Settings read from the environment, checked in a fresh interpreter each."""

import json
import re
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
    "RQ_API_TOKEN": s.RQ_API_TOKEN,
    "DEBUG": s.DEBUG,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "HTTPS": [
        getattr(s, name, None)
        for name in (
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS",
            "SECURE_HSTS_PRELOAD",
        )
    ],
    "RATES": [s.CONTACT_RATE_LIMIT_PER_IP, s.CONTACT_RATE_LIMIT_PER_EMAIL],
    "MIN_FILL": s.CONTACT_MIN_FILL_SECONDS,
    "CSP": {
        key: [str(v) for v in value]
        for key, value in s.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()
    },
    "CACHE": {
        "location": s.CACHES["ratelimit"]["LOCATION"],
        "connect": s.CACHES["ratelimit"]["OPTIONS"]["socket_connect_timeout"],
        "read": s.CACHES["ratelimit"]["OPTIONS"]["socket_timeout"],
        "retries": s.CACHES["ratelimit"]["OPTIONS"]["retry"].get_retries(),
    },
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


def deploy_guide_environment() -> dict:
    """Return the variables docs/deploy.md sets for production, as its shell
    commands set them."""
    guide = (ROOT / "docs" / "deploy.md").read_text()
    block = next(
        b for b in re.findall(r"```sh\n(.*?)```", guide, re.S) if "DEBUG=0" in b
    )
    result = subprocess.run(
        ["bash", "-c", 'heroku() { shift; printf "%s\\0" "$@"; }\n' + block],
        capture_output=True,
        text=True,
        check=True,
    )
    pairs = [item.split("=", 1) for item in result.stdout.split("\0") if item]
    return dict(pairs)


class SettingsTests(SimpleTestCase):
    def test_email_url_picks_the_backend_by_default(self):
        loaded = load_settings(EMAIL_URL="smtp+tls://u:p@smtp.example.com:587")

        assert loaded["EMAIL_BACKEND"] == "contact.smtp.EmailBackend"
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

    def test_the_stats_token_comes_from_the_environment_and_is_off_unset(self):
        assert load_settings(RQ_API_TOKEN="a-long-token")["RQ_API_TOKEN"] == (
            "a-long-token"
        )
        assert load_settings()["RQ_API_TOKEN"] == ""

    def test_retention_and_proxy_header_come_from_the_environment(self):
        loaded = load_settings(CONTACT_RETENTION_DAYS="90", TRUST_X_FORWARDED_PROTO="1")

        assert loaded["RETENTION"] == 90
        assert loaded["PROXY"] == ["HTTP_X_FORWARDED_PROTO", "https"]

    def test_proxy_header_is_not_trusted_by_default(self):
        assert load_settings()["PROXY"] is None

    def test_debug_is_off_unless_asked_for(self):
        loaded = load_settings(DEBUG="", SECRET_KEY="k" * 50)

        assert loaded["DEBUG"] is False

    def test_production_refuses_to_start_without_a_secret_key(self):
        result = subprocess.run(
            [sys.executable, "-c", PRINT],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )

        assert result.returncode != 0
        assert "Set SECRET_KEY when DEBUG is off." in result.stderr

    def test_production_serves_static_files_without_collectstatic_quietly(self):
        fetch = (
            "import django; django.setup(); from django.test import Client;"
            "print(Client().get('/static/frontend/site.css', HTTP_HOST='localhost')"
            ".status_code)"
        )

        result = subprocess.run(
            [sys.executable, "-W", "error", "-c", fetch],
            cwd=ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "DJANGO_SETTINGS_MODULE": "site_config.settings",
                "SECRET_KEY": "k" * 50,
            },
            capture_output=True,
            text=True,
        )

        assert result.stdout.strip() == "200", result.stderr

    def test_a_request_warning_is_logged_once_in_development(self):
        fetch = (
            "import django; django.setup(); from django.test import Client;"
            "Client().get('/no-such-page/', HTTP_HOST='localhost')"
        )

        result = subprocess.run(
            [sys.executable, "-c", fetch],
            cwd=ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "DJANGO_SETTINGS_MODULE": "site_config.settings",
                "DEBUG": "1",
            },
            capture_output=True,
            text=True,
        )

        logged = (result.stdout + result.stderr).count("Not Found: /no-such-page/")
        assert logged == 1, result.stdout + result.stderr

    def test_https_protections_wait_for_their_switch(self):
        plain = load_settings()
        https = load_settings(HTTPS_ONLY="1")

        assert plain["HTTPS"] == [None] * 6
        assert https["HTTPS"] == [True, True, True, 365 * 24 * 3600, True, True]

    def test_hsts_can_leave_subdomains_alone(self):
        loaded = load_settings(HTTPS_ONLY="1", HSTS_INCLUDE_SUBDOMAINS="0")

        assert loaded["HTTPS"][4:] == [False, False]

    def test_the_guards_have_defaults_and_empty_values_switch_them_off(self):
        defaults = load_settings()
        off = load_settings(
            CONTACT_MIN_FILL_SECONDS="0",
            CONTACT_RATE_LIMIT_PER_IP="",
            CONTACT_RATE_LIMIT_PER_EMAIL="",
        )
        chosen = load_settings(
            CONTACT_RATE_LIMIT_PER_IP="5/m", CONTACT_RATE_LIMIT_PER_EMAIL="20/h"
        )

        assert defaults["RATES"] == ["20/h", "5/h"]
        assert defaults["MIN_FILL"] == 3
        assert off["RATES"] == [None, None]
        assert off["MIN_FILL"] == 0
        assert chosen["RATES"] == ["5/m", "20/h"]

    def test_a_malformed_rate_stops_the_start(self):
        with self.assertRaises(subprocess.CalledProcessError) as raised:
            load_settings(CONTACT_RATE_LIMIT_PER_IP="five a minute")

        assert "must look like 5/m or 20/h" in raised.exception.stderr

    def test_a_redis_url_of_another_scheme_stops_the_start_without_its_password(
        self,
    ):
        for url in (
            "http://:hunter2@redis.example.com:6379/0",
            "hunter2@redis.example.com:6379",
        ):
            with self.assertRaises(subprocess.CalledProcessError) as raised:
                load_settings(REDIS_URL=url)

            assert "REDIS_URL must start with redis://" in raised.exception.stderr
            assert "hunter2" not in raised.exception.stderr

    def test_allowed_hosts_listed_with_spaces_are_read_one_by_one(self):
        loaded = load_settings(ALLOWED_HOSTS="a.example, b.example,")

        assert loaded["ALLOWED_HOSTS"] == ["a.example", "b.example"]

    def test_the_rate_limit_cache_fails_as_fast_as_the_queue(self):
        loaded = load_settings(
            REDIS_URL="redis://redis.example.com:6379/2", REDIS_SOCKET_TIMEOUT="0.25"
        )

        assert loaded["CACHE"] == {
            "location": "redis://redis.example.com:6379/2",
            "connect": 0.25,
            "read": 0.25,
            "retries": 0,
        }

    def test_the_policy_forbids_inline_code_and_eval(self):
        csp = load_settings()["CSP"]

        allowed = [source for sources in csp.values() for source in sources]
        assert "'unsafe-inline'" not in allowed
        assert "'unsafe-eval'" not in allowed
        assert csp["frame-src"] == ["'none'"]
        assert csp["script-src"] == ["'self'", "csp.constants.NONCE"]
        assert csp["style-src"] == ["'self'"]

    def test_the_policy_lets_the_captcha_in_only_when_it_is_on(self):
        csp = load_settings(TURNSTILE_SITE_KEY="s", TURNSTILE_SECRET_KEY="k")["CSP"]

        assert "https://challenges.cloudflare.com" in csp["script-src"]
        assert csp["frame-src"] == ["https://challenges.cloudflare.com"]


class DeployCheckTests(SimpleTestCase):
    def test_the_documented_production_environment_passes_check_deploy(self):
        env = deploy_guide_environment()
        # Heroku's PostgreSQL and Redis add-ons set these two.
        env["DATABASE_URL"] = "postgres://u:p@db.example.com:5432/site"
        env["REDIS_URL"] = "rediss://:p@redis.example.com:6380"

        result = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "check",
                "--deploy",
                "--fail-level",
                "WARNING",
            ],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
        )

        assert env["DEBUG"] == "0"
        assert env["HTTPS_ONLY"] == "1"
        assert result.returncode == 0, result.stdout + result.stderr
        assert "System check identified no issues" in result.stdout
        assert "WARNING" not in result.stdout + result.stderr

    def test_local_mail_and_database_defaults_are_reported(self):
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy"],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "k" * 50, "DEBUG": "0"},
            capture_output=True,
            text=True,
        )

        assert "contact.W001" in result.stderr
        assert "contact.W002" in result.stderr
