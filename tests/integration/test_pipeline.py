"""The whole pipeline against real services: Redis, a worker process, SMTP."""

import time

import pytest

from contact.models import ContactMessage

from .services import Visitor, status_url_in, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_htmx_post_is_delivered_and_reported_sent(live_server, smtp, start_worker):
    worker = start_worker()
    visitor = Visitor(live_server.url)

    code, fragment = visitor.submit(
        {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "subject": "Engines ✨",
            "message": "Notes attached.\nSecond line, ünïcode.",
        }
    )
    status_url = status_url_in(fragment)
    started = time.monotonic()
    final = wait_until(
        lambda: (s := visitor.status(status_url)) in ("sent", "failed") and s, 20
    )
    took = time.monotonic() - started

    assert code == 200, fragment
    assert final == "sent", worker.log()
    assert wait_until(lambda: len(smtp.messages) == 2, 5), worker.log()
    owner = smtp.to("owner@example.net")[0]
    reply = smtp.to("ada@example.com")[0]
    message = ContactMessage.objects.get()
    assert owner["Reply-To"] == "Ada Lovelace <ada@example.com>"
    assert owner["Subject"].endswith(f"] Engines ✨ (ref {message.reference})")
    assert "Second line, ünïcode." in owner.get_body(("plain",)).get_content()
    assert "Second line, ünïcode." in owner.get_body(("html",)).get_content()
    assert message.reference in reply["Subject"]
    assert took < 10
