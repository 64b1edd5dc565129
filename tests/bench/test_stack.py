import os

from django.test import SimpleTestCase

from bench.stack import ROOT, peak_rss_kib, procfile_command, with_worker_class


class ProcfileTests(SimpleTestCase):
    def test_reads_the_web_line_as_written(self):
        command = procfile_command("web")

        assert command.startswith("gunicorn site_config.wsgi")
        assert command in (ROOT / "Procfile").read_text()

    def test_unknown_line_raises(self):
        with self.assertRaises(KeyError):
            procfile_command("nonexistent")

    def test_with_worker_class_replaces_the_procfiles_class(self):
        command = "python manage.py rqworker default --worker-class a.B --x"

        result = with_worker_class(command, "rq.worker.Worker")

        assert (
            result
            == "python manage.py rqworker default --worker-class rq.worker.Worker --x"
        )

    def test_with_worker_class_adds_a_class_to_a_line_without_one(self):
        result = with_worker_class("python manage.py rqworker", "rq.worker.Worker")

        assert result == "python manage.py rqworker --worker-class rq.worker.Worker"


class PeakRssTests(SimpleTestCase):
    def test_reads_this_processs_peak_memory(self):
        peak = peak_rss_kib(os.getpid())

        assert peak is not None and peak > 1024

    def test_none_for_a_process_that_does_not_exist(self):
        assert peak_rss_kib(2**22 + 1) is None
