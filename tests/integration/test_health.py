"""/healthz against a real Redis and a worker started as the Procfile starts it."""

import json
from http import HTTPStatus

import pytest

from .services import Visitor, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_healthz_sees_the_running_worker(live_server, start_worker):
    visitor = Visitor(live_server.url)
    worker = start_worker()

    def report():
        code, body = visitor.request("GET", "/healthz")
        data = json.loads(body)
        return (code, data) if data["workers"] else None

    found = wait_until(report, 20, step=0.2)

    assert found, worker.log()
    code, data = found
    assert code == HTTPStatus.OK
    assert data["workers"] == 1
    assert data["database"] is True
    assert data["redis"] is True
