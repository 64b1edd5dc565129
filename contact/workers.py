"""The worker class the Procfile runs."""

from django.db import close_old_connections
from rq.worker import SimpleWorker


class ContactWorker(SimpleWorker):
    """Run each job in the worker process itself, checking the database first.

    RQ's default worker forks a work horse for every job, which costs more than
    sending the two emails of a message. Running in-process instead means one
    database connection lives across jobs, so it is checked (and reopened if the
    server closed it) before and after each job rather than failing the next
    one. SIGTERM still shuts down warmly: the current job finishes, then the
    worker exits; a worker killed outright leaves a lease that runs out and a
    message the sweeper hands to another worker.

    After a Redis outage RQ's defaults would wait up to a minute between
    reconnection attempts and up to ten minutes before restarting a scheduler
    that died with the connection (leaving retries unscheduled); both are
    shortened so delivery resumes within seconds of Redis coming back.
    """

    max_connection_wait_time = 5.0

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("maintenance_interval", 30)
        super().__init__(*args, **kwargs)

    def execute_job(self, job, queue):
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()
