import logging
import math
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
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
        source = "CONTACT_SWEEP_SECONDS" if interval is None else "--interval"
        interval = settings.CONTACT_SWEEP_SECONDS if interval is None else interval
        if not once and not 0 < interval < math.inf:
            # Zero would sweep without pause, holding a core and the database;
            # infinity would sweep once and never again.
            raise CommandError(f"{source} must be a number of seconds above 0.")
        self.running = True
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        if once:
            logger.info("Sweeper: sweeping once")
        else:
            logger.info("Sweeper: started, every %s s", interval)
        while self.running:
            close_old_connections()
            try:
                requeue_stalled(settings.CONTACT_SWEEP_GRACE_SECONDS)
            except Exception:
                if once:
                    # From cron, the exit status is what tells of a failure.
                    logger.exception("Sweeper: sweep failed")
                    raise CommandError("The sweep failed; see the log above.") from None
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
