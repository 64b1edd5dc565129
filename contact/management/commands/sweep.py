import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from contact.jobs import requeue_stalled

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Enqueue again contact messages that no job will deliver: saved while "
        "Redis was down, or left behind by a worker that died."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between sweeps (default: CONTACT_SWEEP_SECONDS).",
        )
        parser.add_argument(
            "--once", action="store_true", help="Sweep once and exit, as from cron."
        )

    def handle(self, *args, interval: float | None, once: bool, **options) -> None:
        interval = interval or settings.CONTACT_SWEEP_SECONDS
        self.running = True
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        logger.info("Sweeper: started, every %s s", interval)
        while self.running:
            close_old_connections()
            try:
                requeue_stalled(settings.CONTACT_SWEEP_GRACE_SECONDS)
            except Exception:
                # An outage of Redis or the database must not end the process:
                # the next sweep is what delivers the messages it left behind.
                logger.exception("Sweeper: sweep failed, trying again later")
            if once:
                break
            self.wait(interval)
        logger.info("Sweeper: stopped")

    def wait(self, seconds: float) -> None:
        # Sleep in slices so SIGTERM ends the process promptly.
        deadline = time.monotonic() + seconds
        while self.running and time.monotonic() < deadline:
            time.sleep(min(0.5, deadline - time.monotonic()))

    def stop(self, signum, frame) -> None:
        self.running = False
