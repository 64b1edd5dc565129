from django.test import SimpleTestCase

from bench.profile import breakdown

WORK = "<module> (manage.py:15);BaseWorker.work (rq/worker/base.py:663)"
JOB = WORK + ";Job.perform (rq/job.py:1400);deliver_message (contact/jobs.py:70)"
RAW = f"""\
{JOB};_claim (contact/jobs.py:140);RawQuerySet.__iter__ (django/db/models/query.py:1) 30
{JOB};_send (contact/jobs.py:160);_record (contact/jobs.py:190) 20
{JOB};owner_notification (contact/emails.py:80);render_to_string (x.py:1) 10
{JOB};_send (jobs.py:1);EmailBackend._send (smtp.py:1);as_bytes (m.py:1) 15
{JOB};_send (jobs.py:1);EmailBackend._send (smtp.py:1);sendmail (smtplib.py:1) 5
{WORK};BaseWorker.heartbeat (rq/worker/base.py:1230) 20
_bootstrap (threading.py:1);PubSubWorkerThread.run (redis/client.py:1) 99
"""


class BreakdownTests(SimpleTestCase):
    def test_groups_samples_of_the_worker_loop_by_the_first_matching_marker(self):
        shares = dict(breakdown(RAW))

        assert shares == {
            "claim and read the message": 0.3,
            "record each email and its history": 0.2,
            "RQ: dequeue, heartbeats, job bookkeeping": 0.2,
            "build and serialise the MIME messages": 0.15,
            "render the email templates": 0.1,
            "SMTP conversation": 0.05,
        }

    def test_largest_group_comes_first(self):
        assert breakdown(RAW)[0][0] == "claim and read the message"

    def test_no_worker_samples_give_no_breakdown(self):
        assert breakdown("_bootstrap (threading.py:1) 5\n") == []
