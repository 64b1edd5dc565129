"""The Procfile's worker process and the scheduler it forks."""

import signal

import psutil
import pytest

from .services import wait_until

pytestmark = pytest.mark.integration


def forked_children(process: psutil.Process) -> list[psutil.Process]:
    """Return the children ``process`` forked without running another program.

    Short-lived helpers a library may start (ldconfig, for one) run programs
    of their own and are left out.
    """
    forked = []
    for child in process.children():
        try:
            if child.cmdline() == process.cmdline():
                forked.append(child)
        except psutil.NoSuchProcess:
            pass
    return forked


def test_the_scheduler_ends_when_its_worker_is_killed(start_worker):
    worker = start_worker()
    root = psutil.Process(worker.process.pid)
    (scheduler,) = wait_until(lambda: forked_children(root), 30)

    # SIGKILL to the worker alone, as an OOM kill would do.
    root.send_signal(signal.SIGKILL)

    assert wait_until(lambda: not scheduler.is_running(), 10)
