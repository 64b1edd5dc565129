"""The production stack on this machine: every process the benchmark starts.

PostgreSQL gets a throwaway database of its own, Redis a private server on a
free port; gunicorn and the worker run the Procfile's own lines; each SMTP sink
is a process of its own. ``Stack.close`` stops all of them and drops the
database, and runs however the benchmark ends.
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
from redis import Redis
from rq import Queue
from rq.worker import Worker as RqWorker

from devtools.embedded_redis import RedisServer, free_port

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
# The database the benchmark connects to in order to create and drop its own.
MAINTENANCE_DB = os.environ.get("BENCH_POSTGRES_DB", "test")


def procfile_command(name: str, procfile: Path = ROOT / "Procfile") -> str:
    """Return the command of the Procfile's ``name`` line."""
    for line in procfile.read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise KeyError(f"no {name!r} line in {procfile}")


def with_worker_class(command: str, worker_class: str) -> str:
    """Return the worker command running ``worker_class`` instead of its own."""
    option = f"--worker-class {worker_class}"
    if "--worker-class" in command:
        return re.sub(r"--worker-class[ =]\S+", option, command)
    return f"{command} {option}"


def peak_rss_kib(pid: int) -> int | None:
    """Return a process's peak resident memory (VmHWM) in KiB, if it runs."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found[1]) if found else None


class Service:
    """One process (and its children) in a process group of its own."""

    def __init__(self, name: str, process: subprocess.Popen, log_path: Path):
        self.name = name
        self.process = process
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def children(self) -> list[int]:
        """Return the pids of the process's direct children."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def stop(self, timeout: float = 15) -> None:
        """Stop warmly (SIGTERM), then at once once ``timeout`` has passed."""
        if not self.running():
            return
        self.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.send_signal(signal.SIGKILL)
            self.process.wait()

    def send_signal(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return ""


class Stack:
    """Start and stop the site's processes around one database and one Redis."""

    def __init__(self, workdir: Path, web_concurrency: int):
        self.workdir = workdir
        self.web_concurrency = web_concurrency
        self.port = free_port()
        self.database = f"bench_{secrets.token_hex(4)}"
        self.database_created = False
        self.redis_server: RedisServer | None = None
        self.services: list[Service] = []
        self.web: Service | None = None
        self.sinks: dict[int, int] = {}
        self.secret_key = "benchmark-" + secrets.token_hex(24)
        # Anything else started in a process group of its own, such as wrk.
        self.others: list[subprocess.Popen] = []

    # Services

    def start(self, sink_delays_ms: tuple[int, ...]) -> None:
        """Create the database, start Redis and the sinks, migrate, start web."""
        self.create_database()
        self.redis_server = RedisServer().start()
        for delay in sink_delays_ms:
            self.sinks[delay] = self.start_sink(delay)
        self.release()
        self.web = self.spawn("web", procfile_command("web"), self.env())
        self.wait_for_web()

    def create_database(self) -> None:
        with psycopg.connect(f"{POSTGRES}/{MAINTENANCE_DB}", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{self.database}"')
        self.database_created = True

    def drop_database(self) -> None:
        if not self.database_created:
            return
        with psycopg.connect(f"{POSTGRES}/{MAINTENANCE_DB}", autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self.database_created = False

    @property
    def database_url(self) -> str:
        return f"{POSTGRES.replace('postgresql://', 'postgres://')}/{self.database}"

    def connect_database(self) -> psycopg.Connection:
        return psycopg.connect(f"{POSTGRES}/{self.database}", autocommit=True)

    def start_sink(self, delay_ms: int) -> int:
        port = free_port()
        self.spawn(
            f"smtp-{delay_ms}ms",
            f"{sys.executable} -m bench.smtp_sink {port} {delay_ms}",
            self.env(),
        )
        _wait_for_port(port, 15)
        return port

    def release(self) -> None:
        """Run the Procfile's release line (migrations) into the new database."""
        result = subprocess.run(
            ["bash", "-c", "exec " + procfile_command("release")],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"release failed:\n{result.stdout}{result.stderr}")

    def wait_for_web(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.web.running():
                break
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer:\n{self.web.log_tail()}")

    def start_workers(
        self, count: int, sink_delay_ms: int, worker_class: str | None = None
    ) -> list[Service]:
        """Start ``count`` worker processes from the Procfile's worker line."""
        command = procfile_command("worker")
        if worker_class:
            command = with_worker_class(command, worker_class)
        env = self.env(EMAIL_URL=f"smtp://127.0.0.1:{self.sinks[sink_delay_ms]}")
        return [self.spawn(f"worker{i}", command, env) for i in range(count)]

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while RqWorker.count(connection=self.redis()) < count:
            if time.monotonic() > deadline:
                logs = "\n".join(
                    s.log_tail() for s in self.services if "worker" in s.name
                )
                raise RuntimeError(f"workers did not start:\n{logs}")
            time.sleep(0.1)

    def stop_workers(self, workers: list[Service]) -> None:
        """Stop workers warmly, all at once, and forget them."""
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.stop()
        self.services = [s for s in self.services if s not in workers]

    # Helpers

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **overrides) -> dict:
        """Return the environment of a deployed process, for this stack."""
        env = dict(os.environ)
        env.update(
            {
                "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "SECRET_KEY": self.secret_key,
                "DEBUG": "0",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "PORT": str(self.port),
                "WEB_CONCURRENCY": str(self.web_concurrency),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_server.url if self.redis_server else "",
                "EMAIL_URL": f"smtp://127.0.0.1:{self.sinks.get(300, 0)}",
                "CONTACT_OWNER_EMAIL": "owner@example.net",
                "DEFAULT_FROM_EMAIL": "site@example.org",
                "PYTHONUNBUFFERED": "1",
                # The abuse guards would turn a load generator away.
                "CONTACT_MIN_FILL_SECONDS": "0",
                "CONTACT_RATE_LIMIT_PER_IP": "",
                "CONTACT_RATE_LIMIT_PER_EMAIL": "",
            }
        )
        env.update({key: str(value) for key, value in overrides.items()})
        return env

    def redis(self) -> Redis:
        return Redis.from_url(self.redis_server.url)

    def queue(self) -> Queue:
        return Queue("default", connection=self.redis())

    def spawn(self, name: str, command: str, env: dict) -> Service:
        log_path = self.workdir / f"{name}-{len(self.services)}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                ["bash", "-c", "exec " + command],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        service = Service(name, process, log_path)
        self.services.append(service)
        return service

    def close(self) -> None:
        """Stop every process and drop the database, whatever state they are in."""
        for process in self.others:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        for service in reversed(self.services):
            service.stop(timeout=10)
        self.services = []
        if self.redis_server:
            self.redis_server.stop()
            shutil.rmtree(self.redis_server.dir, ignore_errors=True)
            self.redis_server = None
        self.drop_database()


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")
