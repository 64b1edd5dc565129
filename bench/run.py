"""``./bin/bench``: measure the contact form on the production stack.

One run starts the stack (see ``bench.stack``), then measures in turn:

1. the form's server time over single-client posts;
2. the floors (home page, trivial view) and the submit at 1, 16 and 64
   clients, with the worker running beside the web;
3. the designs the queue replaced: both emails sent inside the request to a
   300 ms SMTP server, and sent from a daemon thread;
4. the time from submit to "sent", with an idle worker and under load;
5. worker throughput: a queue filled with the workers stopped, then drained;
6. the peak memory of a web and a worker process.

It prints the tables and writes them, with the targets and the machine's
description, to docs/performance.md. Every process and the database it
created are gone when it ends, however it ends.
"""

import argparse
import concurrent.futures
import copy
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.results import Result

from . import machine, profile, report, wrk
from .client import Visitor, server_ms, status_url_in
from .results import Delivery, Drain, LoadPoint, Results
from .stack import ROOT, Stack, peak_rss_kib

SUBMIT = "/contact/"
INLINE = "/bench/contact-inline/"
THREAD = "/bench/contact-thread/"
TRIVIAL = "/bench/trivial/"

CONTACT_WORKER = "ContactWorker"
FORKING_WORKER = "rq.worker.Worker"
WORKER_CLASSES = {CONTACT_WORKER: None, FORKING_WORKER: FORKING_WORKER}


@dataclass(frozen=True)
class Plan:
    """How long and how much: a full run, or a quick one for development."""

    seconds: float
    warmup: float
    server_time_posts: int
    idle_probes: int
    loaded_seconds: float
    fill_at_0ms: int
    fill_forking: int
    fill_per_worker_at_300ms: int
    drain_limit: float


FULL = Plan(
    seconds=10,
    warmup=2,
    server_time_posts=60,
    idle_probes=30,
    loaded_seconds=12,
    fill_at_0ms=1000,
    fill_forking=200,
    fill_per_worker_at_300ms=20,
    drain_limit=30,
)
QUICK = Plan(
    seconds=3,
    warmup=1,
    server_time_posts=50,
    idle_probes=10,
    loaded_seconds=4,
    fill_at_0ms=200,
    fill_forking=50,
    fill_per_worker_at_300ms=6,
    drain_limit=10,
)
CLIENTS = (1, 16, 64)
# Sending inside the request holds a gunicorn worker for both emails (0.6 s),
# so 64 clients would queue longer than a run lasts: that point is left out.
INLINE_CLIENTS = (1, 16)


class Benchmark:
    def __init__(self, stack: Stack, plan: Plan, say=print):
        self.stack = stack
        self.plan = plan
        self.say = say
        self.results = Results()
        self.visitor: Visitor | None = None
        self.workers = []

    def run(self) -> tuple[Results, dict]:
        started = time.monotonic()
        self.say("Starting PostgreSQL database, Redis, SMTP sinks and gunicorn...")
        self.stack.start(sink_delays_ms=(0, 300))
        with self.stack.connect_database() as db:
            description = machine.describe(db, self.stack.redis())
        self.visitor = Visitor("127.0.0.1", self.stack.port)
        self.visitor.open()

        self.use_workers(1, 300)
        self.measure_server_time()
        self.measure_floors()
        self.measure_submit()
        self.results.web_peak_kib = max(
            (peak_rss_kib(pid) or 0 for pid in self.stack.web.children()), default=None
        )
        self.measure_before()

        self.use_workers(1, 0)
        self.say("Submit at 16 clients while the worker drains at full speed...")
        self.load("submit, worker busy", "POST", SUBMIT, 16)
        self.settle()
        self.measure_delivery()
        self.results.worker_peak_kib = peak_rss_kib(self.workers[0].pid)
        self.use_workers(0, 0)

        self.measure_drains()
        self.results.web_concurrency = self.stack.web_concurrency
        self.results.seconds_per_point = self.plan.seconds
        self.results.elapsed_seconds = time.monotonic() - started
        return self.results, description

    # The phases

    def measure_server_time(self) -> None:
        count = self.plan.server_time_posts
        self.say(f"Server time over {count} single-client posts...")
        for n in range(count):
            began = time.perf_counter()
            status, headers, _ = self.visitor.submit(f"single-{n}@example.com")
            elapsed = (time.perf_counter() - began) * 1000
            if status != 200:
                raise RuntimeError(f"the form answered {status}")
            self.results.round_trip_ms.append(elapsed)
            self.results.server_ms.append(_server_ms(headers))
        self.settle()

    def measure_floors(self) -> None:
        for name, path in (("home", "/"), ("trivial", TRIVIAL)):
            for clients in CLIENTS:
                self.load(name, "GET", path, clients)

    def measure_submit(self) -> None:
        redis = self.stack.redis()
        opened = redis.info("stats")["total_connections_received"]
        posts = 0
        for clients in CLIENTS:
            posts += self.load("submit", "POST", SUBMIT, clients).result.requests
            self.settle()
        opened = redis.info("stats")["total_connections_received"] - opened
        self.results.redis_connections_opened = opened
        self.results.submit_posts = posts

    def measure_before(self) -> None:
        for clients in INLINE_CLIENTS:
            # Each answer takes over half a second, and at 16 clients most of
            # a short run would go by before the first answers: run longer.
            self.load("inline", "POST", INLINE, clients, max(self.plan.seconds, 8))
        for clients in CLIENTS:
            self.load("thread", "POST", THREAD, clients)
            # Let the last threads' emails finish before the next run.
            time.sleep(2)

    def measure_delivery(self) -> None:
        count = self.plan.idle_probes
        self.say(f"Submit to sent, idle worker, 0 ms SMTP ({count} messages)...")
        times = []
        for n in range(count):
            times.append(self.probe(self.visitor, f"idle-{n}@example.com"))
            time.sleep(0.1)
        self.results.delivery.append(Delivery("idle worker, 0 ms SMTP", times))

        seconds = self.plan.loaded_seconds
        self.say(f"Submit to sent under 16 clients of load ({seconds:g} s)...")
        body = self.visitor.form_body(f"load-{wrk.UNIQUE}@example.com")
        load = wrk.start(
            self.stack.url + SUBMIT,
            16,
            seconds,
            wrk.script("POST", SUBMIT, self.visitor.post_headers(), body, "load"),
            self.stack.workdir,
        )
        self.stack.others.append(load)
        # One probe every half second while the load runs, each on its own
        # connection, so a slow delivery does not delay the next submit. They
        # poll every 100 ms, so that together they add little load.
        probes = max(1, int((seconds - 1) / 0.5))
        with concurrent.futures.ThreadPoolExecutor(probes) as pool:
            futures = []
            for n in range(probes):
                time.sleep(0.5)
                futures.append(
                    pool.submit(
                        self.probe,
                        self.visitor_copy(),
                        f"loaded-{n}@example.com",
                        poll=0.1,
                    )
                )
            result = wrk.wait(load)
            backlog = self.stack.queue().count
            self.check(result, "submit under load")
            times = [f.result() for f in futures]
        finished = [t for t in times if t is not None]
        self.results.delivery.append(
            Delivery(
                "16 clients posting, 0 ms SMTP",
                finished,
                unfinished=len(times) - len(finished),
                backlog=backlog,
            )
        )
        self.settle()

    def measure_drains(self) -> None:
        plan = self.plan
        configs = [
            (CONTACT_WORKER, 1, 0, plan.fill_at_0ms),
            (CONTACT_WORKER, 2, 0, plan.fill_at_0ms),
            (CONTACT_WORKER, 4, 0, plan.fill_at_0ms),
            (FORKING_WORKER, 1, 0, plan.fill_forking),
        ]
        configs += [
            (CONTACT_WORKER, n, 300, plan.fill_per_worker_at_300ms * n)
            for n in (1, 2, 4)
        ]
        for worker_class, workers, delay, messages in configs:
            self.results.drains.append(
                self.drain(worker_class, workers, delay, messages)
            )
            if len(self.results.drains) == 1:
                self.profile_worker(self.results.drains[0])

    def profile_worker(self, measured: Drain) -> None:
        """Drain once more under py-spy, to show where a worker's CPU goes.

        A run of its own: py-spy pauses the worker for each sample, which
        would lower the figure just measured.
        """
        if not profile.available():
            self.results.worker_profile_note = (
                "py-spy is not installed (pip install -r requirements-dev.txt)"
            )
            return
        messages = self.plan.fill_at_0ms
        self.say(f"Profile: {messages} messages, 1 x ContactWorker under py-spy...")
        # Sample while the worker is surely busy: most of the expected drain.
        seconds = min(10, 0.8 * messages / max(measured.rate, 1))
        output = self.stack.workdir / "worker-profile.txt"
        with self.stack.connect_database() as db:
            last_id = _last_id(db)
            self.fill(messages)
            self.use_workers(1, 0)
            sampler = profile.start(self.workers[0].pid, seconds, output)
            self.stack.others.append(sampler)
            _, errors = sampler.communicate()
            deadline = time.monotonic() + self.plan.drain_limit
            while _settled(db, last_id)[0] < messages:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        self.use_workers(0, 0)
        self.settle()
        shares = profile.breakdown(output.read_text()) if output.exists() else []
        self.results.worker_profile = shares
        if not shares:
            self.results.worker_profile_note = f"py-spy recorded nothing: {errors}"

    # Steps

    def load(
        self,
        name: str,
        method: str,
        path: str,
        clients: int,
        seconds: float | None = None,
    ) -> LoadPoint:
        """Warm up, then measure one request shape at ``clients``."""
        seconds = seconds or self.plan.seconds
        self.say(f"  {name:<20} {clients:>3} clients, {seconds:g} s")
        if method == "POST":
            status, _, fragment = self.visitor.submit("check@example.com", path)
            if status != 200:
                raise RuntimeError(f"POST {path} answered {status}:\n{fragment}")
            body = self.visitor.form_body(f"visitor-{wrk.UNIQUE}@example.com")
            headers = self.visitor.post_headers()
        else:
            body, headers = None, {"Cookie": self.visitor.post_headers()["Cookie"]}
        url = self.stack.url + path
        for length, warm in ((self.plan.warmup, True), (seconds, False)):
            run = f"{name.split(',')[0]}{clients}-{time.monotonic_ns()}"
            text = wrk.script(method, path, headers, body, run)
            process = wrk.start(url, clients, length, text, self.stack.workdir)
            self.stack.others.append(process)
            result = wrk.wait(process)
            self.check(result, f"{name} at {clients} clients", warm)
        point = LoadPoint(name, clients, result)
        self.results.points.append(point)
        return point

    def check(self, result: wrk.Result, what: str, warm: bool = False) -> None:
        if result.bad_status:
            raise RuntimeError(
                f"{what}: {result.bad_status} answers were not 2xx or 3xx; see "
                f"{self.stack.web.log_path}"
            )
        if not result.requests and not warm:
            raise RuntimeError(f"{what}: no request completed")

    def probe(self, visitor: Visitor, email: str, poll: float = 0.005) -> float | None:
        """Submit once; return ms until the status endpoint says sent."""
        began = time.perf_counter()
        status, _, fragment = visitor.submit(email)
        if status != 200:
            raise RuntimeError(f"the form answered {status}")
        if not visitor.wait_for_sent(status_url_in(fragment), 120, poll):
            return None
        return (time.perf_counter() - began) * 1000

    def visitor_copy(self) -> Visitor:
        visitor = Visitor("127.0.0.1", self.stack.port)
        visitor.cookies = dict(self.visitor.cookies)
        visitor.fields = copy.copy(self.visitor.fields)
        visitor.token = self.visitor.token
        return visitor

    def use_workers(self, count: int, delay_ms: int, worker_class=None) -> None:
        """Replace the running workers with ``count`` new ones."""
        self.stack.stop_workers(self.workers)
        self.workers = []
        if count:
            self.workers = self.stack.start_workers(count, delay_ms, worker_class)
            self.stack.wait_for_workers(count)

    def settle(self, timeout: float = 10) -> None:
        """Empty the queue and let the job in hand finish: an idle worker."""
        queue = self.stack.queue()
        queue.empty()
        registry = StartedJobRegistry(queue=queue)
        deadline = time.monotonic() + timeout
        while registry.count and time.monotonic() < deadline:
            time.sleep(0.05)

    def fill(self, messages: int) -> None:
        """Post ``messages`` through the form from four visitors at once."""

        def post(first: int) -> None:
            visitor = self.visitor_copy()
            for n in range(first, messages, 4):
                status, _, _ = visitor.submit(f"fill-{n}-{time.time_ns()}@example.com")
                if status != 200:
                    raise RuntimeError(f"the form answered {status}")

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(post, range(4)))

    def drain(self, worker_class: str, workers: int, delay_ms: int, messages: int):
        self.say(
            f"Drain: {messages} messages, {workers} x {worker_class}, "
            f"{delay_ms} ms SMTP..."
        )
        with self.stack.connect_database() as db:
            last_id = _last_id(db)
            redis = self.stack.redis()
            self.fill(messages)
            rq_queue = self.stack.queue()
            queued = rq_queue.count
            sample = [job_id.decode() for job_id in redis.lrange(rq_queue.key, 0, 49)]
            queued_bytes = _memory_per_job(redis, sample, [rq_queue.key])
            if self.results.redis_commands_per_message is None:
                # The web's connections publish the fill's statistics once
                # idle for ten seconds; they must not count as the worker's.
                time.sleep(11)
            counters = _counters(db, redis)
            began = time.monotonic()
            self.use_workers(workers, delay_ms, WORKER_CLASSES[worker_class])
            deadline = began + self.plan.drain_limit
            polls = 0
            while True:
                settled, failed = _settled(db, last_id)
                polls += 1
                if settled >= messages or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            wall = time.monotonic() - began
            span = db.execute(
                """
                SELECT extract(epoch FROM max(greatest(owner_email_sent_at,
                    autoreply_sent_at)) - min(owner_email_sent_at))
                FROM contact_contactmessage WHERE id > %s AND status = 'sent'
                """,
                [last_id],
            ).fetchone()[0]
        # Closed connections and stopped workers have published all their
        # database statistics; PostgreSQL holds a live one's for a while.
        self.use_workers(0, 0)
        if self.results.redis_commands_per_message is None and settled:
            time.sleep(0.5)
            with self.stack.connect_database() as db:
                commands, transactions = _counters(db, redis)
            self.results.redis_commands_per_message = (commands - counters[0]) / settled
            # Less this process's own: the polls, the span query and the
            # first reading (counted once it committed).
            own = polls + 2
            self.results.pg_transactions_per_message = (
                transactions - counters[1] - own
            ) / settled
        if self.results.redis_bytes_queued is None and settled == messages:
            self.results.redis_bytes_queued = queued_bytes
            self.results.redis_bytes_finished = _memory_per_job(
                redis, sample, [rq_queue.finished_job_registry.key]
            )
        self.settle()
        if queued < messages:
            self.say(f"  only {queued} of {messages} jobs were queued")
        return Drain(
            worker_class=worker_class,
            workers=workers,
            smtp_delay_ms=delay_ms,
            messages=messages,
            sent=settled - failed,
            failed=failed,
            wall_seconds=wall,
            span_seconds=float(span or 0),
        )


def _counters(db, redis) -> tuple[int, int]:
    """Return Redis's commands and this database's transactions so far."""
    transactions = db.execute(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
    ).fetchone()[0]
    return redis.info("stats")["total_commands_processed"], transactions


def _memory_per_job(redis, job_ids: list[str], shared: list[str]) -> float:
    """Return the Redis memory one job takes, from a sample of job ids.

    Counts each job's own keys (its hash and, once finished, its results)
    and its share of the ``shared`` keys (the queue, a registry). Measuring
    keys rather than the server's total leaves out whatever else expires
    or is freed meanwhile.
    """
    if not job_ids:
        return 0.0
    own = 0
    for job_id in job_ids:
        for key in (Job.key_for(job_id), Result.get_key(job_id)):
            own += redis.memory_usage(key) or 0
    entries = 0
    shared_bytes = 0
    for key in shared:
        shared_bytes += redis.memory_usage(key) or 0
        entries += redis.llen(key) if redis.type(key) == b"list" else redis.zcard(key)
    share = shared_bytes / entries if entries else 0
    return own / len(job_ids) + share


def _last_id(db) -> int:
    return db.execute(
        "SELECT coalesce(max(id), 0) FROM contact_contactmessage"
    ).fetchone()[0]


def _settled(db, last_id: int) -> tuple[int, int]:
    """Return how many messages since ``last_id`` are settled, and failed."""
    return db.execute(
        """
        SELECT count(*) FILTER (WHERE status IN ('sent', 'failed')
                                AND autoreply_status <> 'pending'),
               count(*) FILTER (WHERE status = 'failed')
        FROM contact_contactmessage WHERE id > %s
        """,
        [last_id],
    ).fetchone()


def _server_ms(headers) -> float:
    value = server_ms(headers)
    if value is None:
        raise RuntimeError("no Server-Timing header: is bench.settings in use?")
    return value


def _stop_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into an exit, so clean-up runs as on Ctrl-C.

    SIGINT gets Python's own handler back too: a shell that starts a job in
    the background sets it to be ignored.
    """

    def leave(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGHUP, leave)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bin/bench",
        description="Measure the contact form on the production stack.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short runs and small queues, to check the benchmark itself",
    )
    parser.add_argument(
        "--web-concurrency",
        type=int,
        default=os.cpu_count() or 2,
        help="gunicorn worker processes (default: one per CPU)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=ROOT / "docs" / "performance.md",
        help="where to write the report (default: docs/performance.md)",
    )
    parser.add_argument("--no-write", action="store_true", help="print the tables only")
    args = parser.parse_args(argv)

    wrk.binary()
    _stop_on_signals()
    plan = QUICK if args.quick else FULL
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    stack = Stack(workdir, args.web_concurrency)
    try:
        results, description = Benchmark(stack, plan).run()
    except KeyboardInterrupt:
        print(f"\nInterrupted; logs are in {workdir}", file=sys.stderr)
        return 130
    except BaseException:
        print(f"\nThe benchmark stopped; logs are in {workdir}", file=sys.stderr)
        raise
    finally:
        stack.close()
    shutil.rmtree(workdir, ignore_errors=True)

    results.quick = args.quick
    print()
    print(report.tables(results))
    if not args.no_write:
        args.output.write_text(report.document(results, description))
        print(f"Written to {args.output}")
    return 0
