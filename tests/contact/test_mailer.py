import socket
import threading
import time
from unittest import mock

import pytest
from django.core.mail.backends.locmem import EmailBackend
from django.test import SimpleTestCase, override_settings

from contact import mailer

BACKEND = "tests.contact.test_mailer.CountingBackend"


class CountingBackend(EmailBackend):
    """A locmem backend that counts the connections opened and closed."""

    opened = 0
    closed = 0

    def open(self):
        type(self).opened += 1
        return True

    def close(self):
        type(self).closed += 1


@override_settings(EMAIL_BACKEND=BACKEND)
class KeptConnectionTests(SimpleTestCase):
    def setUp(self):
        mailer.close()
        CountingBackend.opened = CountingBackend.closed = 0
        self.addCleanup(mailer.close)

    def use(self, times: int = 1) -> list:
        used = []
        for _ in range(times):
            with mailer.connection() as connection:
                used.append(connection)
        return used

    def test_consecutive_messages_share_one_connection(self):
        first, second = self.use(2)

        assert first is second
        assert (CountingBackend.opened, CountingBackend.closed) == (1, 0)

    def test_an_idle_connection_is_replaced(self):
        (first,) = self.use()
        later = mailer._kept.last_used + mailer.IDLE_SECONDS + 1

        with mock.patch.object(mailer.time, "monotonic", return_value=later):
            (second,) = self.use()

        assert first is not second
        assert (CountingBackend.opened, CountingBackend.closed) == (2, 1)

    def test_a_connection_carries_at_most_max_messages(self):
        used = self.use(mailer.MAX_MESSAGES + 1)

        assert len({id(connection) for connection in used}) == 2
        assert CountingBackend.closed == 1

    def test_an_error_closes_the_connection(self):
        with pytest.raises(OSError), mailer.connection():
            raise OSError("Connection reset by peer")

        self.use()

        assert (CountingBackend.opened, CountingBackend.closed) == (2, 1)

    def test_other_email_settings_get_their_own_connection(self):
        (first,) = self.use()

        with override_settings(EMAIL_HOST="smtp.example.org"):
            (second,) = self.use()

        assert first is not second
        assert CountingBackend.closed == 1


class DrippingServer:
    """An SMTP server that greets, then answers anything with endless lines."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        client, _ = self.listener.accept()
        with client:
            client.sendall(b"220 drip.example ESMTP\r\n")
            client.recv(1024)
            # Long enough to tell a waiting client, short enough to end a
            # test that waits.
            deadline = time.monotonic() + 5
            while not self.stopped.is_set() and time.monotonic() < deadline:
                try:
                    client.sendall(b"250-still going\r\n")
                except OSError:
                    return
                time.sleep(0.05)

    def stop(self):
        self.stopped.set()
        self.listener.close()


class AbandonedConnectionTests(SimpleTestCase):
    def test_an_error_closes_the_socket_without_waiting_for_quit(self):
        server = DrippingServer()
        self.addCleanup(server.stop)
        smtp = "django.core.mail.backends.smtp.EmailBackend"

        with override_settings(
            EMAIL_BACKEND=smtp, EMAIL_HOST="127.0.0.1", EMAIL_PORT=server.port
        ):
            began = time.monotonic()
            with pytest.raises(TimeoutError), mailer.connection():
                raise TimeoutError("the job ran out of time")
            elapsed = time.monotonic() - began

        assert mailer._kept is None
        assert elapsed < 2
