"""An SMTP server that accepts every email after a set delay, in its own process.

    python -m bench.smtp_sink PORT DELAY_MS

The delay models a provider's answer time (Gmail takes about 300 ms per
email). It waits without blocking, so concurrent senders overlap as they would
at a real provider. Nothing is kept: the database rows are the record.
"""

import asyncio
import signal
import sys

from aiosmtpd.controller import Controller


class DelayedAccept:
    def __init__(self, delay: float):
        self.delay = delay
        self.accepted = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.accepted += 1
        return "250 OK"


def main(argv: list[str]) -> int:
    port, delay_ms = int(argv[0]), float(argv[1])
    handler = DelayedAccept(delay_ms / 1000)
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True
    )
    controller.start()
    print(f"SMTP sink: listening on {port}, {delay_ms:g} ms per email", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    print(f"SMTP sink: {handler.accepted} emails accepted", flush=True)
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    sys.exit(main(sys.argv[1:]))
