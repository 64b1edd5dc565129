from django.test import TestCase
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
