import time
from datetime import timedelta
from http import HTTPStatus

from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import SimpleWorker

from contact import health, queue
from contact.models import DeliveryAttempt
from contact.resend import resend

from .helpers import make_contact_message


def start_worker() -> SimpleWorker:
    """Register a worker in Redis as a running ``rqworker`` does."""
    worker = SimpleWorker([queue.get_queue()], connection=queue.get_redis())
    worker.register_birth()
    return worker


class HealthzTests(TestCase):
    def get(self):
        return self.client.get(reverse("healthz"))

    def test_reports_a_healthy_site(self):
        start_worker()
        make_contact_message(status="sent", autoreply_status="sent")

        response = self.get()

        assert response.status_code == HTTPStatus.OK
        report = response.json()
        assert report["ok"] is True
        assert report["database"] is True
        assert report["redis"] is True
        assert report["workers"] == 1
        assert report["queue_length"] == 0
        assert report["oldest_unsent_seconds"] is None
        assert response["Cache-Control"].startswith("max-age=0")

    def test_counts_queued_jobs_and_the_oldest_unsent_message(self):
        start_worker()
        thirty_seconds_ago = timezone.now() - timedelta(seconds=30)
        message = make_contact_message(
            created_at=thirty_seconds_ago, queued_at=thirty_seconds_ago
        )
        queue.enqueue_delivery(message.pk, message.job_id)

        report = self.get().json()

        assert report["queue_length"] == 1
        assert 29 <= report["oldest_unsent_seconds"] < 60

    @override_settings(HEALTH_OLDEST_UNSENT_SECONDS=60)
    def test_a_message_waiting_too_long_is_unhealthy(self):
        start_worker()
        five_minutes_ago = timezone.now() - timedelta(minutes=5)
        make_contact_message(created_at=five_minutes_ago, queued_at=five_minutes_ago)

        response = self.get()

        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert response.json()["problems"] == ["a message has waited too long"]

    @override_settings(HEALTH_OLDEST_UNSENT_SECONDS=60)
    def test_an_old_message_sent_again_waits_from_the_resend(self):
        start_worker()
        two_days_ago = timezone.now() - timedelta(days=2)
        message = make_contact_message(
            status="failed",
            owner_email_status="failed",
            autoreply_status="skipped",
            created_at=two_days_ago,
            queued_at=two_days_ago,
        )
        with self.captureOnCommitCallbacks(execute=True):
            resend([message], "owner_email")

        response = self.get()

        assert response.status_code == HTTPStatus.OK
        assert response.json()["oldest_unsent_seconds"] < 60

    @override_settings(HEALTH_NO_WORKER_SECONDS=60)
    def test_a_missing_worker_is_tolerated_for_a_grace_period(self):
        response = self.get()

        assert response.status_code == HTTPStatus.OK
        assert response.json()["workers"] == 0

    @override_settings(HEALTH_NO_WORKER_SECONDS=60)
    def test_no_worker_past_the_grace_period_is_unhealthy(self):
        queue.get_redis().set(health.NO_WORKER_SINCE_KEY, time.time() - 120)

        response = self.get()

        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert response.json()["problems"] == ["no worker"]

    @override_settings(HEALTH_NO_WORKER_SECONDS=60)
    def test_a_worker_coming_back_resets_the_grace_period(self):
        queue.get_redis().set(health.NO_WORKER_SINCE_KEY, time.time() - 120)
        start_worker()

        response = self.get()

        assert response.status_code == HTTPStatus.OK
        assert queue.get_redis().get(health.NO_WORKER_SINCE_KEY) is None

    def test_a_dead_workers_leftover_registration_does_not_count(self):
        worker = start_worker()
        queue.get_redis().delete(worker.key)

        assert self.get().json()["workers"] == 0

    def test_a_worker_key_that_never_expires_does_not_count(self):
        worker = start_worker()
        queue.get_redis().persist(worker.key)

        assert self.get().json()["workers"] == 0

    def test_unreachable_redis_is_unhealthy(self):
        def refuse(*args, **kwargs):
            raise RedisConnectionError("refused")

        queue.get_redis().connection_pool.get_connection = refuse

        response = self.get()

        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        report = response.json()
        assert report["redis"] is False
        assert report["database"] is True
        assert report["problems"] == ["redis unreachable"]

    def test_an_unreachable_redis_is_logged_in_one_line(self):
        def refuse(*args, **kwargs):
            raise RedisConnectionError("refused")

        queue.get_redis().connection_pool.get_connection = refuse

        with self.assertLogs("contact.health", "WARNING") as logs:
            self.get()

        [record] = logs.records
        assert record.exc_info is None
        assert "Redis did not answer: ConnectionError: refused" in record.getMessage()

    def test_costs_two_database_queries(self):
        start_worker()

        with self.assertNumQueries(2):
            self.get()


class FailingDeliveryHealthTests(TestCase):
    def record(self, message, outcome):
        DeliveryAttempt.objects.create(
            message=message, email=DeliveryAttempt.Email.OWNER, outcome=outcome
        )

    def test_an_owner_notification_that_failed_last_is_a_503(self):
        start_worker()
        message = make_contact_message(status="failed")
        self.record(message, "sent")
        self.record(message, "retrying")
        self.record(message, "failed")

        response = self.client.get(reverse("healthz"))

        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        report = response.json()
        assert report["last_owner_notification"] == "failed"
        assert "the last owner notification failed" in report["problems"]

    def test_a_later_success_clears_it(self):
        start_worker()
        message = make_contact_message(status="sent")
        self.record(message, "failed")
        self.record(message, "sent")

        response = self.client.get(reverse("healthz"))

        assert response.status_code == HTTPStatus.OK
        assert response.json()["last_owner_notification"] == "sent"
