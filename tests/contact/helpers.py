import smtplib

from django.core.mail.backends.locmem import EmailBackend

from contact.models import ContactMessage

VALID_POST = {
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "subject": "A bug in the relay",
    "message": "I found a moth in panel F.\nIt is taped into the log book.",
}


def make_contact_message(**overrides) -> ContactMessage:
    values = dict(VALID_POST)
    values.update(overrides)
    return ContactMessage.objects.create(**values)


class FailingBackend(EmailBackend):
    """A locmem backend that raises ``error`` for chosen recipients.

    ``FailingBackend.error`` is the exception to raise and ``failing`` the
    recipients it applies to (all of them when empty). Set both in a test and
    reset them with ``FailingBackend.reset()``.
    """

    error: Exception | None = None
    failing: set[str] = set()
    calls = 0

    @classmethod
    def reset(cls) -> None:
        cls.error, cls.failing, cls.calls = None, set(), 0

    def send_messages(self, messages):
        type(self).calls += 1
        for message in messages:
            hit = not self.failing or set(message.to) & self.failing
            if self.error is not None and hit:
                raise self.error
        return super().send_messages(messages)


def refused(code: int, text: str = "Refused") -> Exception:
    """Return the exception smtplib raises when its only recipient is refused."""
    return smtplib.SMTPRecipientsRefused({"x@example.com": (code, text.encode())})
