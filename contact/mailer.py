"""The worker's mail connection, kept open from one message to the next.

Opening an SMTP connection (TCP, EHLO, often STARTTLS and a login) costs
more than sending a short email over it, so a worker keeps its connection
for the next message: while it was used moments ago (servers drop idle
connections, and a dropped one would cost the next message a retry), has
carried fewer than ``MAX_MESSAGES`` messages (servers cap what one
connection may carry) and the email settings are the same. Any error while
it is in use closes it, so the next message starts on a fresh connection;
that close skips SMTP's QUIT, whose reply a server gone wrong could delay
without end.
"""

import logging
import smtplib
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core import mail

logger = logging.getLogger(__name__)

IDLE_SECONDS = 5.0
MAX_MESSAGES = 20


@dataclass
class _Kept:
    connection: object
    settings: tuple
    last_used: float
    messages: int = 0


_kept: _Kept | None = None


@contextmanager
def connection():
    """Yield an open mail connection for one message's emails.

    Reuses the connection of the previous message when it is still fresh;
    closes it instead if the body of the ``with`` raises.
    """
    global _kept
    current = _settings()
    if _kept is not None and not _reusable(_kept, current):
        close()
    if _kept is None:
        opened = mail.get_connection()
        opened.open()
        _kept = _Kept(opened, current, time.monotonic())
    try:
        yield _kept.connection
    except BaseException:
        close(quit=False)
        raise
    _kept.messages += 1
    _kept.last_used = time.monotonic()


def close(quit: bool = True) -> None:
    """Close the kept connection, if any; a failed QUIT is only logged.

    With ``quit`` false an SMTP connection's socket is closed without a
    word to the server: after a timeout, or a server that answers line after
    line without end, waiting for QUIT's reply could hold the worker forever.
    """
    global _kept
    kept, _kept = _kept, None
    if kept is None:
        return
    backend = kept.connection
    smtp = getattr(backend, "connection", None)
    try:
        if not quit and isinstance(smtp, smtplib.SMTP):
            smtp.close()
            backend.connection = None
        else:
            backend.close()
    except Exception:
        logger.debug("Mail connection did not close cleanly", exc_info=True)


def _reusable(kept: _Kept, current: tuple) -> bool:
    return (
        kept.settings == current
        and kept.messages < MAX_MESSAGES
        and time.monotonic() - kept.last_used < IDLE_SECONDS
    )


def _settings() -> tuple:
    return (
        settings.EMAIL_BACKEND,
        getattr(settings, "EMAIL_HOST", ""),
        getattr(settings, "EMAIL_PORT", 0),
        getattr(settings, "EMAIL_HOST_USER", ""),
    )
