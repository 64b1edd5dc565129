"""The development runner (bin/dev's second half) falls back to an embedded Redis."""

import os
import select
import signal
import socket
import subprocess
import sys
import threading

import psutil
import pytest

from devtools.embedded_redis import answers, free_port

from .services import (
    ROOT,
    Visitor,
    database_url,
    service_env,
    status_url_in,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_serve_without_redis_starts_an_embedded_one_and_delivers(smtp, tmp_path):
    port = free_port()
    env = service_env(
        DATABASE_URL=database_url(),
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        EMAIL_URL=smtp.url,
        PORT=port,
        CONTACT_MIN_FILL_SECONDS=0,
    )
    log = tmp_path / "serve.log"
    process = start_runner(env, log.open("wb"))
    started = []
    try:
        visitor = Visitor(f"http://127.0.0.1:{port}")
        assert wait_until(lambda: visitor.answers(), 40), log.read_text()
        # honcho gives each process a session of its own, so only their
        # pids tell what the runner started.
        started = psutil.Process(process.pid).children(recursive=True)

        code, fragment = visitor.submit(
            {
                "name": "Ada",
                "email": "ada@example.com",
                "subject": "Hi",
                "message": "Hello",
            }
        )
        status_url = status_url_in(fragment)

        assert code == 200
        assert wait_until(lambda: visitor.status(status_url) == "sent", 30), (
            log.read_text()
        )
        assert "using an embedded one" in log.read_text()
        assert len(smtp.messages) == 2
        assert listening_on(port) == {"127.0.0.1"}  # DEBUG pages stay local

        # SIGTERM to the runner alone, as `kill <pid>` sends it.
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        _, alive = psutil.wait_procs(started, timeout=5)

        assert not alive
        assert not answers("127.0.0.1", port)
    finally:
        kill_all(process, started)


def test_serve_on_sqlite_the_default_database_delivers(smtp, tmp_path):
    """bin/dev without DATABASE_URL: a SQLite file, as a fresh checkout runs."""
    port = free_port()
    env = service_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # an embedded one
        EMAIL_URL=smtp.url,
        PORT=port,
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log = tmp_path / "serve.log"
    process = start_runner(env, log.open("wb"))
    started = []
    try:
        visitor = Visitor(f"http://127.0.0.1:{port}")
        assert wait_until(lambda: visitor.answers(), 40), log.read_text()
        started = psutil.Process(process.pid).children(recursive=True)
        fields = {"name": "Ada", "subject": "Hi", "message": "Hello"}

        statuses = []
        for address in ("ada@example.com", "ADA@example.com"):
            _, fragment = visitor.submit({**fields, "email": address})
            statuses.append(status_url_in(fragment))

        def all_sent():
            return all(visitor.status(url) == "sent" for url in statuses)

        assert wait_until(all_sent, 30), log.read_text()
        # Two owner notifications, and one auto-reply a day for the address.
        assert wait_until(lambda: len(smtp.messages) == 3, 10), log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        kill_all(process, started)


def test_ctrl_c_after_the_output_pipe_closed_stops_everything(tmp_path):
    """As `bin/dev | tee log` does when Ctrl-C ends tee before the runner."""
    port = free_port()
    env = service_env(
        DATABASE_URL=database_url(),
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        PORT=port,
    )
    read_end, write_end = os.pipe()
    process = start_runner(env, write_end)
    os.close(write_end)
    reading = threading.Event()
    reading.set()

    def read_like_tee():
        while reading.is_set():
            if select.select([read_end], [], [], 0.1)[0]:
                os.read(read_end, 65536)

    reader = threading.Thread(target=read_like_tee)
    reader.start()
    started = []
    try:
        visitor = Visitor(f"http://127.0.0.1:{port}")
        assert wait_until(lambda: visitor.answers(), 40)
        started = psutil.Process(process.pid).children(recursive=True)

        reading.clear()
        reader.join()
        os.close(read_end)
        # A terminal's Ctrl-C goes to its foreground process group.
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
        _, alive = psutil.wait_procs(started, timeout=10)

        assert not alive, [p.cmdline() for p in alive]
        assert not answers("127.0.0.1", port)
    finally:
        reading.clear()
        kill_all(process, started)


def start_runner(env: dict, output) -> subprocess.Popen:
    """Start bin/serve.py (bin/dev's second half), its output to ``output``."""
    return subprocess.Popen(
        [sys.executable, "bin/serve.py"],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_all(runner: subprocess.Popen, started: list) -> None:
    """Kill the runner and whatever it started that is still running."""
    runner.kill()
    for leftover in started:
        try:
            leftover.kill()
        except psutil.NoSuchProcess:
            pass


def listening_on(port: int) -> set[str]:
    return {
        connection.laddr.ip
        for connection in psutil.net_connections("tcp")
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
    }


def test_serve_on_a_port_in_use_says_so_before_starting_anything():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = subprocess.run(
            [sys.executable, "bin/serve.py"],
            cwd=ROOT,
            env=service_env(PORT=port, BIND_HOST="127.0.0.1"),
            capture_output=True,
            text=True,
            timeout=30,
        )

    assert result.returncode == 1
    assert f"Port {port} is in use" in result.stderr
    assert "Site:" not in result.stdout
