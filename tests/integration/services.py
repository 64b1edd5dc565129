"""Real services for integration tests: an SMTP sink, a worker, an HTTP visitor."""

import asyncio
import email
import email.policy
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from aiosmtpd.controller import Controller

from devtools.embedded_redis import free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout: float, step: float = 0.05):
    """Poll ``predicate`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(step)


class SmtpSink:
    """An aiosmtpd server in a thread that records what it accepts.

    ``mode`` changes its answers: "accept", "refuse" (421 to every message) or
    "delay" (waits ``delay`` seconds before accepting). ``reject`` holds
    recipients answered with 550.
    """

    def __init__(self):
        self.messages = []
        self.mode = "accept"
        self.delay = 0.0
        self.reject = set()
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):
                if address in sink.reject:
                    return "550 5.1.1 User unknown"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                if sink.mode == "refuse":
                    return "421 4.3.2 Service not available"
                if sink.delay:
                    await asyncio.sleep(sink.delay)
                parsed = email.message_from_bytes(
                    envelope.content, policy=email.policy.default
                )
                sink.messages.append((envelope.mail_from, envelope.rcpt_tos, parsed))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True
        )
        self.controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list:
        return [m for _, rcpt, m in self.messages if address in rcpt]

    def stop(self) -> None:
        self.controller.stop()


class Worker:
    """``rqworker`` exactly as the Procfile runs it, in its own process."""

    def __init__(self, env: dict, name: str = "worker", log_dir: Path | None = None):
        self.env = env
        self.log_path = (
            log_dir or Path("/tmp")
        ) / f"{name}-{os.getpid()}-{free_port()}.log"
        self.process = None

    def start(self) -> "Worker":
        command = procfile_command("worker")
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            ["bash", "-c", "exec " + command],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def signal(self, sig: int) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def procfile_command(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise KeyError(name)


def service_env(**overrides) -> dict:
    """Return the environment a deployed process would get, plus overrides."""
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}:{env['PATH']}",
            "SECRET_KEY": "integration-" + "x" * 40,
            "DEBUG": "0",
            "CONTACT_OWNER_EMAIL": "owner@example.net",
            "DEFAULT_FROM_EMAIL": "site@example.org",
            "EMAIL_TIMEOUT": "3",
            "CONTACT_RETRY_INTERVALS": "1,1,2",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


class Visitor:
    """An HTTP client that posts the contact form as htmx would."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def request(self, method, path, data=None, headers=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            urllib.parse.urljoin(self.base_url, path),
            data=body,
            method=method,
            headers=headers or {},
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def submit(self, fields: dict) -> tuple[int, str]:
        _, page = self.request("GET", "/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        headers = {
            "HX-Request": "true",
            "HX-Current-URL": self.base_url + "/",
            "X-CSRFToken": token,
            "Referer": self.base_url + "/",
        }
        return self.request("POST", "/contact/", fields, headers)

    def status(self, status_url: str) -> str | None:
        _, text = self.request("GET", status_url, headers={"HX-Request": "true"})
        found = re.search(r'data-status="([a-z]+)"', text)
        return found[1] if found else None


def status_url_in(fragment: str) -> str:
    return re.search(r'data-status-url="([^"]+)"', fragment)[1]
