"""The Procfile's worker process and the scheduler it forks."""

import signal

import psutil
import pytest

from .services import wait_until

pytestmark = pytest.mark.integration


def test_the_scheduler_ends_when_its_worker_is_killed(start_worker):
    worker = start_worker()
    root = psutil.Process(worker.process.pid)
    assert wait_until(lambda: root.children(recursive=True), 30)
    (scheduler,) = root.children(recursive=True)

    # SIGKILL to the worker alone, as an OOM kill would do.
    root.send_signal(signal.SIGKILL)

    assert wait_until(lambda: not scheduler.is_running(), 10)
