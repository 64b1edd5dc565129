from django.test import SimpleTestCase

from bench import report
from bench.results import Delivery, Drain, LoadPoint, Results
from bench.wrk import Result


def wrk_result(p50: float, p99: float, rps: float) -> Result:
    return Result(
        requests=int(rps * 10),
        seconds=10,
        errors=0,
        bad_status=0,
        timeouts=0,
        mean=p50,
        p50=p50,
        p90=p99,
        p95=p99,
        p99=p99,
        max=p99,
    )


def drain(workers: int, delay: int, rate: float, cls="ContactWorker") -> Drain:
    messages = int(rate * 10)
    return Drain(cls, workers, delay, messages, messages, 0, 11, 10)


def make_results(submit_p99=20.0, worker_rate=120.0) -> Results:
    results = Results(web_concurrency=2, seconds_per_point=10)
    for clients in (1, 16, 64):
        results.points += [
            LoadPoint("home", clients, wrk_result(4, 10, 400)),
            LoadPoint("trivial", clients, wrk_result(1, 3, 2000)),
            LoadPoint("submit", clients, wrk_result(5, submit_p99, 300)),
            LoadPoint("thread", clients, wrk_result(8, 40, 200)),
        ]
    results.points.append(LoadPoint("inline", 1, wrk_result(620, 650, 1.6)))
    results.delivery.append(Delivery("idle worker, 0 ms SMTP", [50.0, 60.0, 70.0]))
    results.drains += [
        drain(1, 0, worker_rate),
        drain(1, 0, 15, "rq.worker.Worker"),
        drain(1, 300, 1.6),
        drain(2, 300, 3.2),
        drain(4, 300, 6.4),
    ]
    return results


class TargetsTests(SimpleTestCase):
    def verdicts(self, results: Results) -> dict[str, bool]:
        return {t.name: t.passed for t in report.targets(results)}

    def test_every_target_passes_on_good_figures(self):
        results = make_results()

        verdicts = self.verdicts(results)

        assert len(verdicts) == 7
        assert all(verdicts.values()), verdicts

    def test_p99_over_two_and_a_half_times_the_home_pages_fails(self):
        results = make_results(submit_p99=26)

        verdicts = self.verdicts(results)

        assert not verdicts["submit p99 at 16 clients within 2.5x the home page's"]

    def test_a_slow_worker_fails_its_target(self):
        results = make_results(worker_rate=60)

        verdicts = self.verdicts(results)

        name = "one worker sends at least 100 messages/s at 0 ms SMTP"
        assert verdicts[name] is False


class SizingTests(SimpleTestCase):
    def test_workers_needed_rounds_up(self):
        assert report.workers_needed(10, 1.6) == 7
        assert report.workers_needed(0.01, 1.6) == 1

    def test_per_worker_rate_is_the_lowest_of_the_runs_at_300_ms(self):
        results = make_results()
        results.drains.append(drain(4, 300, 6.0))

        assert report.per_worker_rate_at_300ms(results) == 1.5


class DocumentTests(SimpleTestCase):
    def test_document_holds_the_tables_machine_and_targets(self):
        results = make_results()

        text = report.document(results, {"CPU": "Test CPU, 2 logical CPUs"})

        assert "| CPU | Test CPU, 2 logical CPUs |" in text
        assert "| submit (the form, queued) | 16 | 5.0 | 20.0 | 20.0 | 300 |" in text
        assert "**fail**" not in text
        assert "{" not in text.replace("{}", "")

    def test_tables_print_every_section(self):
        results = make_results()

        text = report.tables(results)

        for title in ("Latency and throughput", "Targets", "Worker throughput"):
            assert title in text


class ScaleTableTests(SimpleTestCase):
    def test_multiplies_the_per_message_costs_by_the_rate(self):
        results = make_results()
        results.redis_commands_per_message = 50
        results.pg_transactions_per_message = 5

        table = report.scale_table(results)

        assert "| messages a second | 1.6 | 16.0 | 1,600.0 |" in table
        assert "| workers at 300 ms an email | 1 | 10 | 1,000 |" in table
        assert "| Redis commands a second | 80 | 800 | 80,000 |" in table
        assert "| PostgreSQL transactions a second | 10 | 96 | 9,600 |" in table
        assert "| machines like this one for the web | 1 | 1 | 6 |" in table
