"""The two emails a contact message produces, rendered from editable templates.

Templates live in ``templates/contact/email/``: ``<kind>_subject.txt``,
``<kind>.txt`` and ``<kind>.html`` for the kinds ``owner_notification`` and
``autoreply``. Addresses are built with :func:`email.utils.formataddr`, so a
visitor's name is always quoted as a display name and can never add a
recipient. The name and subject are folded onto one line here as well as in
the form, so a row edited in the admin or saved before the form folded them
still makes valid headers.
"""

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.encoding import punycode

from .models import ContactMessage
from .text import one_line


def _render(kind: str, context: dict) -> tuple[str, str, str]:
    subject = render_to_string(f"contact/email/{kind}_subject.txt", context)
    # A subject must stay on one line whatever the template or the visitor wrote.
    subject = one_line(subject)
    text = render_to_string(f"contact/email/{kind}.txt", context)
    html = render_to_string(f"contact/email/{kind}.html", context)
    return subject, text, html


def site_address() -> tuple[str, str]:
    """Return the display name and address the site sends from.

    ``DEFAULT_FROM_EMAIL`` is usually a bare address, shown under
    ``SITE_NAME``; written as Django also allows, ``Name <address>``, its own
    name is used instead.
    """
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return name or settings.SITE_NAME, address


def ascii_address(email: str) -> str:
    """Return ``email`` with its domain in ASCII (IDNA), as headers need it.

    The form refuses non-ASCII local parts, so the domain is all that may
    need converting; ``bücher.example`` becomes ``xn--bcher-kva.example``.
    """
    local, _, domain = email.rpartition("@")
    return f"{local}@{punycode(domain)}"


def _context(message: ContactMessage) -> dict:
    return {
        "contact": message,
        "site_name": settings.SITE_NAME,
        "owner_name": settings.SITE_OWNER_NAME,
    }


def message_id(kind: str, message: ContactMessage) -> str:
    """Return the Message-ID of one of the message's emails.

    It is the same on every try: if a worker dies after the server accepted
    an email but before the row recorded it, the email is sent again, and
    mail stores that deduplicate (Gmail among them) show it once. Only a
    resend the owner asked for gets a new one, so that it is not hidden.
    """
    domain = site_address()[1].rpartition("@")[2] or "localhost"
    resend = f".{message.resends}" if message.resends else ""
    return f"<{message.reference}.{kind}{resend}@{domain}>"


def _build(
    kind: str,
    message: ContactMessage,
    to: str,
    sender_name: str = "",
    headers: dict | None = None,
    **kwargs,
) -> EmailMultiAlternatives:
    subject, text, html = _render(kind, _context(message))
    headers = dict(headers or {})
    if not settings.EMAIL_BACKEND.startswith("anymail."):
        # SMTP returns no id of its own; the Message-ID set here is the one the
        # delivery history keeps. Email services assign theirs.
        headers["Message-ID"] = message_id(kind, message)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((sender_name or site_address()[0], site_address()[1])),
        to=[to],
        headers=headers,
        **kwargs,
    )
    email.attach_alternative(html, "text/html")
    return email


def owner_notification(message: ContactMessage) -> EmailMultiAlternatives:
    """Return the email that tells the owner about ``message``.

    It carries the visitor's full text, and Reply-To names the visitor, so the
    owner's "reply" answers them while From stays the site's own address; its
    display name says who wrote ("Grace Hopper via My Site"), so the inbox
    shows it.
    """
    name = one_line(message.name)
    try:
        reply_to = [formataddr((name, ascii_address(message.email)))]
    except UnicodeError:
        # A domain without an ASCII form, saved before the form refused
        # them: the owner still hears of the message and reads the address
        # in its text.
        reply_to = []
    return _build(
        "owner_notification",
        message,
        to=settings.CONTACT_OWNER_EMAIL,
        sender_name=f"{name} via {site_address()[0]}",
        reply_to=reply_to,
    )


def autoreply(message: ContactMessage) -> EmailMultiAlternatives:
    """Return the acknowledgement sent to the visitor who wrote ``message``.

    It never repeats the visitor's name, subject or text: an address typed by
    a stranger must not turn the form into a way to mail arbitrary content.
    """
    return _build(
        "autoreply",
        message,
        to=ascii_address(message.email),
        # RFC 3834: marks the email as an automatic answer, so the visitor's
        # own vacation responder does not answer it in turn.
        headers={"Auto-Submitted": "auto-replied"},
    )
