"""The worker class the Procfile runs."""

import ctypes
import gc
import logging
import os
import signal
import sys
import time
import traceback

from django.conf import settings
from django.db import close_old_connections
from redis.exceptions import ConnectionError, TimeoutError
from rq.job_lifecycle import call_exception_handlers
from rq.worker import SimpleWorker

logger = logging.getLogger(__name__)

REDIS_OUTAGE = (ConnectionError, TimeoutError)

# prctl(2): the signal a child gets when its parent dies.
PR_SET_PDEATHSIG = 1


def _close_abandoned_scheduler_connection() -> None:
    """Collect garbage, closing the Redis client RQ dropped before forking.

    RQ's scheduler opens a client of its own in the worker's process to take
    its lock, then drops it just before forking the scheduler process without
    closing it. Its idle connection lived on in both processes until a garbage
    collection happened to run, one more than the worker and the scheduler
    use, depending on unrelated allocations. Collecting just before each fork
    closes it. The client was made moments before, so collecting the two
    young generations finds it in microseconds; a full collection would add
    tens of milliseconds to the worker's start.
    """
    # TODO: remove when RQ's RQScheduler.start() closes its connection pool
    # before forking.
    gc.collect(1)


def _end_with_the_worker() -> None:
    """Have the kernel stop this forked child when the worker that forked it dies.

    The worker's only child is RQ's scheduler. A worker killed outright (an
    OOM kill, SIGKILL to its process alone) would leave it running, holding
    the scheduler's lock and its Redis connections, so that the worker
    started in its place ran without a scheduler of its own.
    """
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        # The worker died before the request took effect.
        os.kill(os.getpid(), signal.SIGTERM)


os.register_at_fork(
    before=_close_abandoned_scheduler_connection,
    after_in_child=_end_with_the_worker,
)


class ContactWorker(SimpleWorker):
    """Run each job in the worker process itself, checking the database first.

    RQ's default worker forks a work horse for every job, which costs more than
    sending the two emails of a message. Running in-process instead means one
    database connection lives across jobs, so it is checked (and reopened if the
    server closed it) before and after each job rather than failing the next
    one. SIGTERM still shuts down warmly: the current job finishes, then the
    worker exits; a worker killed outright leaves a lease that runs out and a
    message the sweeper hands to another worker.

    RQ's worker quits when Redis fails outside its dequeue call (maintenance,
    heartbeats, a job's bookkeeping), leaving the platform to restart it,
    which can take many minutes after repeated crashes. This worker logs such
    failures and carries on: the dequeue call waits for Redis to return, the
    message rows hold the truth, and the sweeper requeues whatever a lost
    bookkeeping write left behind. RQ's defaults would also wait up to a
    minute between reconnection attempts and up to ten minutes before
    restarting a scheduler that died with the connection (leaving retries
    unscheduled); both are shortened so delivery resumes within seconds of
    Redis coming back.
    """

    max_connection_wait_time = 5.0
    # RQ refreshes the worker's registration (three Redis round trips) before
    # and after every job, a large share of a job's cost. The registration
    # lives for minutes, so between jobs one refresh a second is enough. It
    # must stay under the one-second first wait after a failed dequeue, so a
    # Redis that comes back empty is noticed on the first try after it.
    heartbeat_interval = 0.9
    # Every finished job would log how long RQ keeps its result, the same
    # minute each time (see contact.queue).
    log_result_lifespan = False
    _lost_redis = False
    _beat_at = float("-inf")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("maintenance_interval", settings.RQ_MAINTENANCE_SECONDS)
        super().__init__(*args, **kwargs)

    def execute_job(self, job, queue):
        close_old_connections()
        try:
            super().execute_job(job, queue)
        except REDIS_OUTAGE:
            logger.warning("Worker %s: Redis failed around job %s", self.name, job.id)
        finally:
            close_old_connections()

    def handle_exception(self, job, *exc_info):
        """Log a failed job in one line, its traceback only at DEBUG.

        RQ logs some thirty lines of traceback at ERROR for every failed try,
        including each transient SMTP failure that a retry will mend. The
        delivery job logs each failure itself, naming the message, and its
        last failure with the traceback.
        """
        error = exc_info[1]
        self.log.warning(
            "Worker %s: job %s failed: %s: %s",
            self.name,
            job.id,
            type(error).__name__,
            error,
        )
        self.log.debug(
            "Worker %s: job %s traceback:\n%s",
            self.name,
            job.id,
            "".join(traceback.format_exception(*exc_info)),
        )
        call_exception_handlers(self._exc_handlers, job, *exc_info)

    def run_maintenance_tasks(self):
        try:
            super().run_maintenance_tasks()
        except REDIS_OUTAGE:
            logger.warning("Worker %s: Redis unavailable for maintenance", self.name)

    def set_state(self, state: str, pipeline=None) -> None:
        # RQ records the worker as idle just before its dequeue call, outside
        # the part that waits for Redis to return: a Redis lost right there
        # (as at start-up) would end the worker.
        try:
            super().set_state(state, pipeline=pipeline)
        except REDIS_OUTAGE:
            logger.warning("Worker %s: Redis unavailable for its state", self.name)

    def check_for_suspension(self, burst: bool) -> None:
        try:
            super().check_for_suspension(burst)
        except REDIS_OUTAGE:
            logger.warning("Worker %s: Redis unavailable", self.name)

    def heartbeat(self, timeout=None, pipeline=None):
        recent = time.monotonic() - self._beat_at < self.heartbeat_interval
        if recent and timeout is None and pipeline is None and not self._lost_redis:
            return
        try:
            if self._lost_redis and not self.connection.exists(self.key):
                # Redis came back empty: register again so dashboards and the
                # health check see this worker.
                self.register_birth()
            self._lost_redis = False
            if pipeline is None:
                # One round trip instead of one per command.
                with self.connection.pipeline() as own:
                    super().heartbeat(timeout, pipeline=own)
                    own.execute()
            else:
                super().heartbeat(timeout, pipeline=pipeline)
            self._beat_at = time.monotonic()
        except REDIS_OUTAGE:
            self._lost_redis = True
            logger.warning("Worker %s: Redis unavailable for heartbeat", self.name)
