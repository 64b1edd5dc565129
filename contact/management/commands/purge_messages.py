import logging
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contact.models import ContactMessage

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Delete contact messages, and their delivery history, older than "
        "CONTACT_RETENTION_DAYS. Safe to schedule daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep this many days instead of CONTACT_RETENTION_DAYS.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count, but delete nothing."
        )

    def handle(self, *args, days: int | None, dry_run: bool, **options) -> None:
        source = "CONTACT_RETENTION_DAYS" if days is None else "--days"
        days = settings.CONTACT_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError(f"{source} must keep at least one day of messages.")
        try:
            cutoff = timezone.now() - timedelta(days=days)
        except OverflowError:
            raise CommandError(f"{source} is too large: {days} days.") from None
        old = ContactMessage.objects.filter(created_at__lt=cutoff)

        if dry_run:
            self.stdout.write(
                f"Would delete {old.count()} messages older than {days} days."
            )
            return
        deleted = old.delete()[1].get(ContactMessage._meta.label, 0)
        logger.info("Purge: deleted %s messages older than %s days", deleted, days)
        self.stdout.write(f"Deleted {deleted} messages older than {days} days.")
