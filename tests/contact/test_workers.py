from unittest import mock

from django.test import SimpleTestCase
from redis.exceptions import ConnectionError

from contact import queue
from contact.workers import ContactWorker


def make_worker() -> ContactWorker:
    worker = ContactWorker([queue.get_queue()], connection=queue.get_redis())
    worker.register_birth()
    return worker


class ContactWorkerHeartbeatTests(SimpleTestCase):
    def test_heartbeats_between_jobs_go_out_at_most_once_an_interval(self):
        redis = queue.get_redis()
        worker = make_worker()
        worker.heartbeat()
        redis.hset(worker.key, "last_heartbeat", "marker")

        worker.heartbeat()

        assert redis.hget(worker.key, "last_heartbeat") == b"marker"

    def test_heartbeat_goes_out_again_once_the_interval_has_passed(self):
        redis = queue.get_redis()
        worker = make_worker()
        worker.heartbeat()
        redis.hset(worker.key, "last_heartbeat", "marker")
        worker._beat_at -= worker.heartbeat_interval

        worker.heartbeat()

        assert redis.hget(worker.key, "last_heartbeat") != b"marker"

    def test_heartbeat_with_its_own_timeout_always_goes_out(self):
        """RQ's heartbeat around a job sets the timeout the job needs."""
        redis = queue.get_redis()
        worker = make_worker()
        worker.heartbeat()

        with redis.pipeline() as pipeline:
            worker.heartbeat(30, pipeline=pipeline)
            pipeline.execute()

        assert 0 < redis.ttl(worker.key) <= 30

    def test_registers_again_at_once_when_redis_comes_back_empty(self):
        redis = queue.get_redis()
        worker = make_worker()
        worker.heartbeat()
        worker._lost_redis = True
        redis.flushall()

        worker.heartbeat()

        assert redis.exists(worker.key)
        assert not worker._lost_redis


class ContactWorkerRedisOutageTests(SimpleTestCase):
    def test_recording_its_state_survives_a_lost_redis(self):
        """RQ records the state outside the dequeue call's own retry loop."""
        worker = make_worker()
        lost = mock.patch.object(
            worker.connection, "hset", side_effect=ConnectionError("Redis is down")
        )

        with lost:
            worker.set_state("idle")

        assert worker.get_state() == "idle"


class ContactWorkerFailureLogTests(SimpleTestCase):
    def test_a_failed_job_is_one_line_with_the_traceback_kept_for_debugging(self):
        job = queue.get_queue().enqueue("math.sqrt", -1)
        worker = ContactWorker([queue.get_queue()], connection=queue.get_redis())

        with self.assertLogs("rq.worker", level="DEBUG") as logs:
            worker.work(burst=True)

        failures = [r for r in logs.records if job.id in r.getMessage()]
        warnings = [r for r in failures if r.levelname in ("WARNING", "ERROR")]
        assert [r.getMessage() for r in warnings] == [
            f"Worker {worker.name}: job {job.id} failed: ValueError: math domain error"
        ]
        assert any("Traceback" in r.getMessage() for r in failures)
        assert job.id in queue.get_queue().failed_job_registry.get_job_ids()


class ContactWorkerSuccessLogTests(SimpleTestCase):
    def test_a_finished_job_logs_no_line_about_keeping_its_result(self):
        job = queue.get_queue().enqueue("math.sqrt", 4, result_ttl=60)
        worker = ContactWorker([queue.get_queue()], connection=queue.get_redis())

        with self.assertLogs("rq.worker", level="INFO") as logs:
            worker.work(burst=True)

        lines = [r.getMessage() for r in logs.records if job.id in r.getMessage()]
        assert any("Job OK" in line for line in lines)
        assert not any("kept for" in line for line in lines)
