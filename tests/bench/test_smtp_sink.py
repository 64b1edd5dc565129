import asyncio
from unittest import mock

from django.test import SimpleTestCase

from bench.smtp_sink import DelayedAccept


class DelayedAcceptTests(SimpleTestCase):
    def test_waits_the_delay_without_blocking_then_accepts(self):
        handler = DelayedAccept(0.3)

        with mock.patch("bench.smtp_sink.asyncio.sleep") as sleep:
            reply = asyncio.run(handler.handle_DATA(None, None, None))

        sleep.assert_awaited_once_with(0.3)
        assert reply.startswith("250")
        assert handler.accepted == 1

    def test_without_a_delay_accepts_at_once(self):
        handler = DelayedAccept(0)

        with mock.patch("bench.smtp_sink.asyncio.sleep") as sleep:
            reply = asyncio.run(handler.handle_DATA(None, None, None))

        sleep.assert_not_called()
        assert reply.startswith("250")
