"""Django's SMTP email backend, waiting longer for the server's verdict on an email.

``EMAIL_TIMEOUT`` bounds every exchange with the server, so that one that
stops answering fails the attempt quickly. The reply to the end of an email's
data is different: the server may be checking the email for viruses or spam,
and may take it even when the client has stopped waiting, so giving up early
makes the retry send a second copy. RFC 5321 (4.5.3.2.6) asks clients to wait
ten minutes for that reply; this backend waits ``EMAIL_DATA_TIMEOUT`` seconds.
"""

import smtplib

from django.conf import settings
from django.core.mail.backends import smtp


class _PatientData:
    def data(self, msg):
        self.sock.settimeout(settings.EMAIL_DATA_TIMEOUT)
        try:
            return super().data(msg)
        finally:
            if self.sock is not None:
                self.sock.settimeout(self.timeout)


class SMTP(_PatientData, smtplib.SMTP):
    pass


class SMTP_SSL(_PatientData, smtplib.SMTP_SSL):
    pass


class EmailBackend(smtp.EmailBackend):
    """Django's SMTP backend; ``EMAIL_URL`` with an SMTP scheme chooses it."""

    @property
    def connection_class(self):
        return SMTP_SSL if self.use_ssl else SMTP
