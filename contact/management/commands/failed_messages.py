from django.core.management.base import BaseCommand

from contact.models import ContactMessage
from contact.resend import MAX_RESENDS, resend


class Command(BaseCommand):
    help = (
        "List contact messages whose owner notification failed; with --requeue, "
        "send them again through the queue."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--requeue",
            action="store_true",
            help=f"Queue the owner notification again (at most {MAX_RESENDS}).",
        )

    def handle(self, *args, requeue: bool, **options) -> None:
        # A failed message the owner has since marked as spam is settled.
        failed = ContactMessage.objects.filter(
            status=ContactMessage.Status.FAILED, is_spam=False
        ).order_by("created_at")
        messages = list(failed[:MAX_RESENDS] if requeue else failed)
        if not messages:
            self.stdout.write("No failed messages.")
            return

        for message in messages:
            self.stdout.write(
                f"{message.reference}  {message.created_at:%Y-%m-%d %H:%M}  "
                f"{message.email}  attempts={message.attempts}  "
                f"{message.last_error or '-'}"
            )
        if not requeue:
            self.stdout.write(f"{len(messages)} failed; --requeue sends them again.")
            return

        result = resend(messages, "owner_email")
        for reference, reason in result.skipped.items():
            self.stdout.write(f"Skipped {reference}: {reason}.")
        self.stdout.write(self.style.SUCCESS(f"Queued again: {len(result.queued)}."))
        if failed.count() > len(result.skipped):
            self.stdout.write("More remain; run the command again for the next ones.")
