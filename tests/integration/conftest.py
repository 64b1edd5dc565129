import os

import pytest
from redis import Redis

from contact import queue

from .services import ProcfileProcess, SmtpSink, database_url, service_env


@pytest.fixture
def fake_redis(settings, redis_server, monkeypatch):
    """Replace the suite's fakeredis with the real Redis for these tests."""
    settings.REDIS_URL = redis_server.url
    monkeypatch.setattr(queue, "_redis_failed_at", float("-inf"))
    client = Redis.from_url(redis_server.url)
    client.flushdb()
    queue.get_redis.cache_clear()
    queue.get_queue.cache_clear()
    yield client
    queue.get_redis.cache_clear()
    queue.get_queue.cache_clear()
    client.flushdb()


@pytest.fixture
def smtp():
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture
def stack_env(fake_redis, smtp, settings):
    """Return the environment that points processes at this test's services."""

    def env(**overrides):
        values = {
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "EMAIL_URL": smtp.url,
        }
        values.update(overrides)
        return service_env(**values)

    return env


@pytest.fixture
def start_process(stack_env, tmp_path):
    """Start Procfile processes (``worker``, ``sweeper``...) for one test."""
    started = []

    def start(kind: str, **env):
        process = ProcfileProcess(
            kind, stack_env(**env), f"{kind}{len(started)}", tmp_path
        )
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.stop()
        # Shown by pytest only when the test failed.
        print(f"--- {process.log_path.name} ---\n{process.log()}")


@pytest.fixture
def start_worker(start_process):
    return lambda **env: start_process("worker", **env)


# Fault scenarios record their outcome here; the table is printed at the end of
# the run and, with RELIABILITY_REPORT=path, written there as Markdown.
OUTCOMES = []


@pytest.fixture
def record_outcome():
    def record(scenario: str, faults: str, submitted: int, delivered: int, copies):
        duplicated = sum(count - 1 for count in copies.values() if count > 1)
        OUTCOMES.append(
            (scenario, faults, submitted, delivered, duplicated, submitted - delivered)
        )

    return record


def pytest_terminal_summary(terminalreporter):
    if not OUTCOMES:
        return
    header = (
        "scenario",
        "faults injected",
        "submitted",
        "delivered",
        "duplicated",
        "lost",
    )
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in OUTCOMES:
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    terminalreporter.write_sep("-", "delivery under faults")
    for line in lines:
        terminalreporter.write_line(line)
    path = os.environ.get("RELIABILITY_REPORT")
    if path:
        with open(path, "w") as report:
            report.write("\n".join(lines) + "\n")
