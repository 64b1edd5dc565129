"""Real services for integration tests: an SMTP sink, a worker, an HTTP visitor."""

import asyncio
import collections
import email
import email.policy
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from aiosmtpd.controller import Controller
from django.db import connection

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
        # Called with each envelope before it is accepted; a returned reply
        # string is sent instead and the email is not recorded.
        self.before_accept = None
        self.mode = "accept"
        self.delay = 0.0
        self.reject = set()
        sink = self

        self.sessions = 0

        class Handler:
            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                sink.sessions += 1
                session.host_name = hostname
                return responses

            async def handle_RCPT(self, server, session, envelope, address, options):
                if address in sink.reject:
                    return "550 5.1.1 User unknown"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                if sink.mode == "refuse":
                    return "421 4.3.2 Service not available"
                if sink.before_accept and (reply := sink.before_accept(envelope)):
                    return reply
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

    def copies(self) -> collections.Counter:
        """Count accepted emails by Message-ID (one per message and kind)."""
        return collections.Counter(m["Message-ID"] for _, _, m in self.messages)

    def stop(self) -> None:
        self.controller.stop()


class ProcfileProcess:
    """One line of the Procfile, run exactly as written, in its own process group."""

    def __init__(
        self, kind: str, env: dict, name: str = "", log_dir: Path | None = None
    ):
        self.kind = kind
        self.env = env
        name = name or kind
        self.log_path = (
            log_dir or Path("/tmp")
        ) / f"{name}-{os.getpid()}-{free_port()}.log"
        self.process = None

    def start(self) -> "ProcfileProcess":
        command = procfile_command(self.kind)
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

    def kill(self) -> None:
        """Take the process down at once, as a crash or an OOM kill would."""
        self.signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


class Worker(ProcfileProcess):
    def __init__(self, env: dict, name: str = "worker", log_dir: Path | None = None):
        super().__init__("worker", env, name, log_dir)


class Tarpit:
    """A TCP server that accepts connections and never says a word.

    After ``heal(port)`` new connections are forwarded to ``port`` instead, so
    a test can model a server that hangs for a while and then recovers.
    """

    def __init__(self):
        self.port = free_port()
        self.target = None
        self.accepted = []
        self.held = []
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def heal(self, port: int) -> None:
        self.target = port

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(time.monotonic())
            if self.target is None:
                self.held.append(conn)
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.held += [conn, upstream]
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def stop(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        sink.close()


def procfile_command(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise KeyError(name)


def database_url() -> str:
    """Return a URL for the test database that this process is using."""
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


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
            # Tests post at machine speed from one address; the guards' own
            # tests switch them back on.
            "CONTACT_MIN_FILL_SECONDS": "0",
            "CONTACT_RATE_LIMIT_PER_IP": "",
            "CONTACT_RATE_LIMIT_PER_EMAIL": "",
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

    def answers(self) -> bool:
        """Return True once the site serves its home page."""
        try:
            return self.request("GET", "/")[0] == 200
        except OSError:
            return False

    def csrf_token(self) -> str:
        """Load the home page once, as a browser would, and keep its token."""
        if not getattr(self, "_token", None):
            _, page = self.request("GET", "/")
            self._token = re.search(
                r'name="csrfmiddlewaretoken" value="([^"]+)"', page
            )[1]
        return self._token

    def submit(self, fields: dict) -> tuple[int, str]:
        headers = {
            "HX-Request": "true",
            "HX-Current-URL": self.base_url + "/",
            "X-CSRFToken": self.csrf_token(),
            "Referer": self.base_url + "/",
        }
        return self.request("POST", "/contact/", fields, headers)

    def status(self, status_url: str) -> str | None:
        _, text = self.request("GET", status_url, headers={"HX-Request": "true"})
        found = re.search(r'data-status="([a-z]+)"', text)
        return found[1] if found else None


def status_url_in(fragment: str) -> str:
    return re.search(r'data-status-url="([^"]+)"', fragment)[1]
