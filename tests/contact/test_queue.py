import time
from unittest import mock

from django.test import TestCase
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import SimpleWorker
from rq.job import Job

from contact import queue

from .helpers import make_contact_message


class EnqueueDeliveryTests(TestCase):
    def test_a_finished_job_leaves_redis_within_a_minute(self):
        """The row is the record; finished jobs must not pile up in Redis."""
        message = make_contact_message()
        queue.enqueue_delivery(message.pk, message.job_id, message.reference)
        redis = queue.get_redis()

        SimpleWorker([queue.get_queue()], connection=redis).work(burst=True)

        job = Job.fetch(message.job_id, connection=redis)
        assert job.is_finished
        assert 0 < redis.ttl(job.key) <= 60


class RedisPauseTests(TestCase):
    def break_redis(self) -> list:
        tries = []

        def refuse(*args, **kwargs):
            tries.append(1)
            raise RedisConnectionError("refused")

        queue.get_redis().connection_pool.get_connection = refuse
        return tries

    def test_after_a_failure_redis_is_left_alone_for_a_while(self):
        tries = self.break_redis()
        first, second = make_contact_message(), make_contact_message()

        queued = [queue.enqueue_delivery(m.pk, m.job_id) for m in (first, second)]

        assert queued == [False, False]
        assert len(tries) == 1

    def test_redis_is_asked_again_once_the_pause_is_over(self):
        tries = self.break_redis()
        message = make_contact_message()
        queue.enqueue_delivery(message.pk, message.job_id)
        later = time.monotonic() + queue.REDIS_PAUSE_SECONDS + 1

        with mock.patch.object(queue.time, "monotonic", return_value=later):
            queue.enqueue_delivery(message.pk, message.job_id)

        assert len(tries) == 2
