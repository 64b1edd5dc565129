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
