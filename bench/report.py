"""The benchmark's tables, targets and docs/performance.md, from its results."""

import math
from dataclasses import dataclass
from datetime import date

from .results import Results
from .stats import percentile

LABELS = {
    "submit": "submit (the form, queued)",
    "home": "home page (floor)",
    "trivial": "trivial view (floor)",
    "inline": "before: emails sent in the request",
    "thread": "before: emails sent from a thread",
    "submit, worker busy": "submit, worker draining at 0 ms",
}

# Message rates a site might need, in messages per second, and their names.
RATES = [
    (1 / 60, "1 a minute"),
    (1, "1 a second"),
    (10, "10 a second"),
    (100, "100 a second"),
]


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    passed: bool | None
    margin: str


# Formatting


def ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def ratio(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def _number(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.0f} MiB"


def _kib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1024:.1f} KiB"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _divide(a: float | None, b: float | None) -> float | None:
    if a is None or not b:
        return None
    return a / b


# Tables


def load_table(results: Results) -> str:
    rows = []
    for point in results.points:
        r = point.result
        rows.append(
            [
                LABELS.get(point.name, point.name),
                point.clients,
                ms(r.p50),
                ms(r.p95),
                ms(r.p99),
                f"{r.throughput:.0f}",
                r.requests,
                r.errors,
            ]
        )
    return markdown_table(
        [
            *("request", "clients", "p50 ms", "p95 ms", "p99 ms"),
            *("req/s", "requests", "errors"),
        ],
        rows,
    )


def ratio_table(results: Results) -> str:
    """Submit figures divided by the floors' and the older designs'."""
    rows = []
    for clients in sorted({p.clients for p in results.points if p.name == "submit"}):
        submit = results.point("submit", clients).result

        def other(name, attr, clients=clients):
            point = results.point(name, clients)
            return getattr(point.result, attr) if point else None

        rows.append(
            [
                clients,
                ratio(_divide(submit.p50, other("home", "p50"))),
                ratio(_divide(submit.p99, other("home", "p99"))),
                ratio(_divide(submit.throughput, other("home", "throughput"))),
                ratio(_divide(submit.p50, other("trivial", "p50"))),
                ratio(_divide(submit.p99, other("trivial", "p99"))),
                ratio(_divide(submit.throughput, other("trivial", "throughput"))),
                ratio(_divide(other("inline", "p50"), submit.p50)),
                ratio(_divide(other("thread", "p50"), submit.p50)),
                ratio(_divide(submit.throughput, other("thread", "throughput"))),
            ]
        )
    return markdown_table(
        [
            "clients",
            "p50 / home",
            "p99 / home",
            "req/s / home",
            "p50 / trivial",
            "p99 / trivial",
            "req/s / trivial",
            "in-request p50 / submit p50",
            "thread p50 / submit p50",
            "req/s / thread",
        ],
        rows,
    )


def delivery_table(results: Results) -> str:
    rows = []
    for delivery in results.delivery:
        times = delivery.times
        rows.append(
            [
                delivery.condition,
                len(times) + delivery.unfinished,
                ms(percentile(times, 50)) if times else "n/a",
                ms(percentile(times, 95)) if times else "n/a",
                ms(max(times)) if times else "n/a",
                delivery.unfinished,
                delivery.backlog,
            ]
        )
    return markdown_table(
        [
            "condition",
            "messages",
            "median ms",
            "p95 ms",
            "max ms",
            "not sent in 120 s",
            "queue left at the end",
        ],
        rows,
    )


def drain_table(results: Results) -> str:
    rows = []
    for d in results.drains:
        rows.append(
            [
                d.worker_class,
                d.workers,
                d.smtp_delay_ms,
                d.messages,
                d.sent,
                d.failed,
                f"{d.wall_seconds:.1f}" + ("" if d.complete else " (stopped)"),
                f"{d.rate:.1f}",
                f"{d.rate / d.workers:.1f}",
            ]
        )
    return markdown_table(
        [
            "worker class",
            "workers",
            "SMTP ms per email",
            "queued",
            "sent",
            "failed",
            "drain s",
            "messages/s",
            "per worker",
        ],
        rows,
    )


def profile_table(results: Results) -> str:
    if not results.worker_profile:
        return results.worker_profile_note or "No profile was taken."
    rows = [[group, f"{share:.0%}"] for group, share in results.worker_profile]
    return markdown_table(["what the worker was doing", "share of its CPU"], rows)


def other_table(results: Results) -> str:
    rows = []
    if results.server_ms:
        rows.append(
            [
                f"form's server time, {len(results.server_ms)} single-client posts",
                f"median {ms(percentile(results.server_ms, 50))} ms, "
                f"p95 {ms(percentile(results.server_ms, 95))} ms",
            ]
        )
        rows.append(
            [
                "the same posts' round trip at the client",
                f"median {ms(percentile(results.round_trip_ms, 50))} ms",
            ]
        )
    if results.redis_connections_opened is not None:
        rows.append(
            [
                "Redis connections opened during the submit runs",
                f"{results.redis_connections_opened} for {results.submit_posts} posts",
            ]
        )
    if results.redis_bytes_queued is not None:
        rows.append(
            [
                "Redis memory per message's job: queued / finished (kept for "
                "result_ttl)",
                f"{results.redis_bytes_queued / 1024:.1f} KiB / "
                f"{results.redis_bytes_finished / 1024:.1f} KiB",
            ]
        )
    if results.redis_commands_per_message is not None:
        rows.append(
            [
                "one worker's cost per message: Redis commands / PostgreSQL "
                "transactions",
                f"{results.redis_commands_per_message:.0f} / "
                f"{results.pg_transactions_per_message:.1f}",
            ]
        )
    for label, kib in (
        ("peak RSS (VmHWM), one gunicorn worker", results.web_peak_kib),
        ("peak RSS (VmHWM), one rq worker (ContactWorker)", results.worker_peak_kib),
    ):
        if kib:
            rows.append([label, f"{kib / 1024:.0f} MiB"])
    return markdown_table(["measure", "value"], rows)


# Targets


def per_worker_rate_at_300ms(results: Results) -> float | None:
    """Return the messages per second one worker delivers at 300 ms an email.

    The lowest per-worker rate of the runs at 300 ms, so that the estimate
    holds when workers share the machine.
    """
    rates = [
        d.rate / d.workers
        for d in results.drains
        if d.smtp_delay_ms == 300 and d.worker_class == "ContactWorker" and d.rate
    ]
    return min(rates) if rates else None


def workers_needed(rate: float, per_worker: float) -> int:
    return max(1, math.ceil(rate / per_worker))


def targets(results: Results) -> list[Target]:
    found = []

    def point(name, clients):
        p = results.point(name, clients)
        return p.result if p else None

    submit16, home16 = point("submit", 16), point("home", 16)
    if submit16 and home16:
        value = submit16.p99 / home16.p99
        found.append(
            Target(
                "submit p99 at 16 clients within 2.5x the home page's",
                f"{ms(submit16.p99)} ms vs {ms(home16.p99)} ms: {ratio(value)}",
                value <= 2.5,
                f"{(2.5 - value) / 2.5:+.0%} of the allowance",
            )
        )
        value = submit16.throughput / home16.throughput
        found.append(
            Target(
                "submit throughput at 16 clients at least 40 % of the home page's",
                f"{submit16.throughput:.0f} vs {home16.throughput:.0f} req/s: "
                f"{value:.0%}",
                value >= 0.4,
                f"{(value - 0.4) * 100:+.0f} points",
            )
        )

    submit1, inline1 = point("submit", 1), point("inline", 1)
    if submit1 and inline1:
        value = inline1.p50 / submit1.p50
        found.append(
            Target(
                "submit p50 at least 50x lower than sending in the request (300 ms)",
                f"{ms(inline1.p50)} ms vs {ms(submit1.p50)} ms: {ratio(value)}",
                value >= 50,
                f"{value / 50:.1f}x the required factor",
            )
        )

    comparisons = []
    for clients in sorted({p.clients for p in results.points if p.name == "thread"}):
        submit, thread = point("submit", clients), point("thread", clients)
        if submit and thread:
            comparisons.append((clients, submit, thread))
    if comparisons:
        worst = max(s.p50 / t.p50 for _, s, t in comparisons)
        lowest = min(s.throughput / t.throughput for _, s, t in comparisons)
        detail = "; ".join(
            f"{c}: p50 {ms(s.p50)} vs {ms(t.p50)} ms, "
            f"{s.throughput:.0f} vs {t.throughput:.0f} req/s"
            for c, s, t in comparisons
        )
        found.append(
            Target(
                "submit not slower than the daemon-thread version at any load "
                "(p50 and req/s)",
                detail,
                worst <= 1 and lowest >= 1,
                f"worst p50 ratio {ratio(worst)}, lowest req/s ratio {ratio(lowest)}",
            )
        )

    idle = next((d for d in results.delivery if d.condition.startswith("idle")), None)
    if idle and idle.times:
        median = percentile(idle.times, 50)
        found.append(
            Target(
                "submit to sent under 1 s median (idle worker, 0 ms SMTP)",
                f"{ms(median)} ms",
                median < 1000,
                f"{1000 / median:.0f}x under the limit"
                if median < 1000
                else f"{median / 1000:.1f}x over",
            )
        )

    one = results.drain(1, 0)
    if one:
        found.append(
            Target(
                "one worker sends at least 100 messages/s at 0 ms SMTP",
                f"{one.rate:.0f} messages/s",
                one.rate >= 100,
                f"{one.rate / 100:.0%} of the target",
            )
        )

    base = results.drain(1, 300)
    if base and base.rate:
        scaled = [
            (d.workers, d.rate / base.rate)
            for d in (results.drain(2, 300), results.drain(4, 300))
            if d
        ]
        if scaled:
            efficiency = min(factor / workers for workers, factor in scaled)
            found.append(
                Target(
                    "throughput scales with workers at 300 ms (80 % of linear)",
                    ", ".join(f"{w} workers: {ratio(f)}" for w, f in scaled),
                    efficiency >= 0.8,
                    f"{efficiency:.0%} of linear at worst",
                )
            )
    return found


def targets_table(results: Results) -> str:
    rows = []
    for target in targets(results):
        verdict = {True: "pass", False: "**fail**", None: "n/a"}[target.passed]
        rows.append([target.name, target.measured, verdict, target.margin])
    return markdown_table(["target", "measured", "result", "by how much"], rows)


def sizing_table(results: Results) -> str:
    per_worker = per_worker_rate_at_300ms(results)
    if not per_worker:
        return "No run at 300 ms to size workers from."
    rows = [
        [name, f"{rate * 3600:,.0f}", workers_needed(rate, per_worker)]
        for rate, name in RATES
    ]
    return markdown_table(["messages", "per hour", "workers at 300 ms an email"], rows)


def scale_table(results: Results) -> str:
    """Return what one, ten and a thousand times the default load cost."""
    per_worker = per_worker_rate_at_300ms(results)
    submits = max(
        (p.result.throughput for p in results.points if p.name == "submit"),
        default=None,
    )
    redis = results.redis_commands_per_message
    transactions = results.pg_transactions_per_message
    if not (per_worker and submits and redis and transactions):
        return "Not enough measurements for the table."
    columns = [("now", per_worker), ("10x", 10 * per_worker)]
    columns.append(("1000x", 1000 * per_worker))
    rows = [
        ["messages a second", *(f"{rate:,.1f}" for _, rate in columns)],
        ["emails a second at the provider", *(f"{2 * r:,.0f}" for _, r in columns)],
        [
            "workers at 300 ms an email",
            *(f"{workers_needed(rate, per_worker):,}" for _, rate in columns),
        ],
        ["Redis commands a second", *(f"{rate * redis:,.0f}" for _, rate in columns)],
        [
            "PostgreSQL transactions a second",
            *(f"{rate * (transactions + 1):,.0f}" for _, rate in columns),
        ],
        [
            "machines like this one for the web",
            *(f"{math.ceil(rate / submits):,}" for _, rate in columns),
        ],
    ]
    return markdown_table(["", *(name for name, _ in columns)], rows)


# Output


def tables(results: Results) -> str:
    """Return the printed summary: every table of the run."""
    sections = [
        ("Latency and throughput", load_table(results)),
        ("Submit as a ratio", ratio_table(results)),
        ("Submit to sent", delivery_table(results)),
        ("Worker throughput", drain_table(results)),
        ("Where one worker's CPU goes", profile_table(results)),
        ("Server time, connections, memory", other_table(results)),
        ("Targets", targets_table(results)),
        ("Workers needed at 300 ms an email", sizing_table(results)),
    ]
    return "\n\n".join(f"{title}\n\n{table}" for title, table in sections) + "\n"


def document(results: Results, machine: dict[str, str]) -> str:
    """Return docs/performance.md for this run."""
    per_worker = per_worker_rate_at_300ms(results)
    submit16 = results.point("submit", 16)
    fork = results.drain(1, 0, "rq.worker.Worker")
    simple = results.drain(1, 0)
    context = {
        "date": date.today().isoformat(),
        "kind": "quick (development) run" if results.quick else "full run",
        "seconds": f"{results.seconds_per_point:g}",
        "web": results.web_concurrency,
        "elapsed": f"{results.elapsed_seconds / 60:.1f}",
        "machine": markdown_table(
            ["", ""], [[key, value] for key, value in machine.items()]
        ),
        "load": load_table(results),
        "ratios": ratio_table(results),
        "delivery": delivery_table(results),
        "drains": drain_table(results),
        "profile": profile_table(results),
        "other": other_table(results),
        "targets": targets_table(results),
        "sizing": sizing_table(results),
        "per_worker": f"{per_worker:.2f}" if per_worker else "n/a",
        "per_worker_hour": f"{per_worker * 3600:,.0f}" if per_worker else "n/a",
        "submit_rate": f"{submit16.result.throughput:.0f}" if submit16 else "n/a",
        "fork_rate": f"{fork.rate:.0f}" if fork else "n/a",
        "simple_rate": f"{simple.rate:.0f}" if simple else "n/a",
        "pg_transactions": _number(results.pg_transactions_per_message, ".0f"),
        "redis_commands": _number(results.redis_commands_per_message, ".0f"),
        "redis_queued": _kib(results.redis_bytes_queued),
        "redis_finished": _kib(results.redis_bytes_finished),
        "scale": scale_table(results),
        "finished_minute_1000x": _mib(
            1000 * per_worker * 60 * results.redis_bytes_finished
            if per_worker and results.redis_bytes_finished
            else None
        ),
        "backlog_hour": _mib(
            10 * per_worker * 3600 * results.redis_bytes_queued
            if per_worker and results.redis_bytes_queued
            else None
        ),
        "worker_verdict": _worker_verdict(simple, results.drain(2, 0)),
        "fork_factor": ratio(_divide(simple.rate, fork.rate))
        if fork and simple
        else "n/a",
    }
    return DOCUMENT.format(**context)


def _worker_verdict(one, two) -> str:
    """Say how this run's one worker fared against 100 messages a second."""
    if one is None:
        return ""
    if one.rate >= 100:
        return f"In this run one worker sent {one.rate:.0f} messages a second."
    sentence = (
        f"In this run one worker sent {one.rate:.0f} messages a second, "
        f"{1 - one.rate / 100:.0%} short of the 100 a second target"
    )
    if two is not None:
        sentence += f"; two workers sent {two.rate:.0f}"
    return sentence + "."


DOCUMENT = """\
# Performance

The contact form answers as soon as the message is saved and its delivery
queued; a worker sends the two emails afterwards. This page measures how
close that comes to what Django itself can do on the same machine, how it
compares with the designs it replaced, and how fast the worker delivers.

Every figure below comes from one run of `./bin/bench` ({kind}, {date},
{seconds} s per load point after a warm-up, {elapsed} minutes in all). Run
it again to check them on your own machine; `./bin/bench --quick` takes a
few minutes and is meant for working on the benchmark, not for figures.

## The machine

{machine}

## What runs

- **PostgreSQL**: a database of the run's own, created on 127.0.0.1:5432,
  migrated with the Procfile's `release` line, dropped at the end.
- **Redis**: a private `redis-server` on a free port.
- **web**: the Procfile's `web` line as written (gunicorn, sync workers,
  access log on), with `DEBUG=0` and `WEB_CONCURRENCY={web}`.
  `DJANGO_SETTINGS_MODULE=bench.settings`: the site's settings with the
  benchmark's URLs added (`bench/urls.py`) and a `Server-Timing` header; the
  site's own URLs never carry them.
- **worker**: the Procfile's `worker` line (`ContactWorker`, with the
  scheduler), running beside the web during every submit run.
- **SMTP**: two aiosmtpd servers in processes of their own, one answering
  each email at once, one after 300 ms (about what Gmail takes).
- The abuse guards are off for the run (`CONTACT_MIN_FILL_SECONDS=0`, empty
  `CONTACT_RATE_LIMIT_PER_IP` and `CONTACT_RATE_LIMIT_PER_EMAIL`): the load
  comes from one address.

Load comes from wrk (one thread for one client, two otherwise). Each post
is what htmx sends from a browser: every input of the page's form, hidden
ones included, the CSRF cookie and `X-CSRFToken` header, `HX-Request: true`,
`Origin` and `Referer`; each carries its own email address. During the
submit runs the worker sends to the 300 ms server, as a site on Gmail would;
the row "submit, worker draining at 0 ms" repeats 16 clients with the worker
sending to the 0 ms server, as fast as it can, to show its cost when it is
busiest. The queue is emptied between runs.

The two "before" rows are bench-only views (`bench/views.py`) that validate
and save the message exactly as the form does, then send both emails to the
300 ms server over one connection, either inside the request or from a
daemon thread started by it. Sending inside the request holds a gunicorn
worker for about 0.6 s, so 64 clients would queue longer than a run lasts;
that point is left out.

## Latency and throughput

{load}

Submit divided by the floors and by the designs it replaced:

{ratios}

The home page is the heavier floor: it renders the whole form through
Django's form templates, which takes most of a gunicorn worker's time on
that page. The trivial view shows what any request costs behind the site's
middleware. On top of that, a submit validates the form, inserts the row
(one commit) and enqueues the job over the process's one Redis connection
(one pipelined round trip).

## Submit to sent

The time from posting the form to the status endpoint answering "sent"
(the owner's copy accepted by the SMTP server), polled every 5 ms. Under
load, a probe is posted every half second while wrk posts from 16 clients,
and polls every 100 ms so the probes add little load of their own; the
worker takes messages in order, so a probe waits behind every message
queued before it.

{delivery}

## Worker throughput

The queue is filled through the form with the workers stopped, then the
workers start and the run waits until every message is settled (or stops
waiting after a while, marked "stopped"). Messages per second count from
the first email accepted to the last, so the workers' start-up is left out;
"drain s" includes it. A worker keeps its SMTP connection from one message to
the next (`contact/mailer.py`), so both emails and the following messages
share it.

{drains}

Where one worker's CPU goes while it drains a queue to the 0 ms server, from
py-spy samples that hold the GIL (waits on PostgreSQL, Redis and SMTP are
left out), in a drain of its own so the sampling does not slow the one
measured above:

{profile}

Per message the worker makes {pg_transactions} PostgreSQL transactions
(the claim, a connection check, then one per email) and sends Redis
{redis_commands} commands, most of them RQ's own bookkeeping. Seven changes
came from profiling it:

- the auto-reply rule's lookup by address has an index (without it each
  message read the whole table, a third of the worker's time once it held a
  few thousand rows);
- the SMTP connection is kept for the next message (opening it cost as much
  as sending an email);
- the claim is one `UPDATE ... RETURNING` that also reads the row back and
  answers the auto-reply rule's question, instead of an UPDATE and two
  SELECTs;
- each email's outcome is one statement that updates the row and adds its
  history entry (`WITH ... UPDATE ... INSERT`), instead of a transaction of
  four round trips (BEGIN, UPDATE, INSERT, COMMIT); the last one also ends
  the lease;
- RQ's heartbeat, three round trips before and after every job, goes out at
  most once a second in one round trip;
- a finished job stays in Redis for a minute instead of an hour;
- RQ's line about how long it keeps each result is not logged.

The claim and the outcomes are the only SQL the site's code writes by hand
(`contact/jobs.py`; on SQLite, for development, an outcome is two statements
in one transaction): Django's ORM has no `UPDATE ... RETURNING` and cannot
join an UPDATE and an INSERT in one statement, and building its queries took
the worker longer than PostgreSQL took to run them. Timed 500 times each on
the development machine on 2026-12-04: the claim through the ORM (a
conditional UPDATE, then reading the row) 1.9 ms against 0.4 ms for the one
statement; an email's outcome through the ORM (UPDATE and INSERT in a
transaction) 1.1 ms against 0.4 ms; the auto-reply lookup 0.5 ms on its own.
Tests hold the statements' conditions to the ORM querysets they stand for.
What remains is in the profile above: Django building and serialising the
two MIME messages and rendering their templates, the SMTP conversation (with
a Python server on the same two cores), and RQ's own bookkeeping. RQ alone,
the same worker class running 1,000 jobs that do nothing, managed about 400
a second (2.5 ms a job, measured on 2026-12-04).
{worker_verdict}

The worker class is RQ's `SimpleWorker` (`contact.workers.ContactWorker`),
not RQ's default `Worker`, which forks a work horse for every job: on the
same load one forking worker delivered {fork_rate} messages/s against
{simple_rate} for `ContactWorker` ({fork_factor}). The fork, the child's new
database connection and the process's exit cost more than sending two
emails.

## Server time, connections, memory

{other}

## Targets

{targets}

Every figure comes from this one run on a machine that was doing other work
too (see its load average above); the targets that compare two figures
compare them within the run. Where the worker misses its target, the
profile under "Worker throughput" shows what its time goes to.

Two verdicts move from run to run more than the others. The p99 at 16
clients is the slowest 1 % of a ten-second run, a few dozen requests, so
a single pause on a shared machine shifts it: full runs on the development
machine on 2026-12-04 put the ratio to the home page anywhere from 1.5x to
3.6x. The worker's rate follows how busy the machine's two cores are with
other work: runs of the same code there ranged from 93 to 114 messages a
second, so one worker meets the 100 a second target in some runs and misses
it by a few percent in others; a second worker always passed it.

## How many workers

At 300 ms an email a worker spends most of its time waiting for the SMTP
server, so workers add up: this run measured {per_worker} messages/s per
worker ({per_worker_hour} an hour), the lowest per-worker figure of the runs
at 300 ms. Workers needed for a steady rate:

{sizing}

A burst larger than that waits in the queue and drains at the same rate; the
visitor's confirmation does not wait for it.

## Scale beyond one machine

Web processes keep no state between requests and workers share only Redis
and PostgreSQL, so both scale out across machines without code changes.
Take as the starting load what the Procfile's defaults deliver here, one
worker at 300 ms an email; the rows below multiply this run's per-message
costs by the rate:

{scale}

**Ten times the load.** Still one small machine for the web and the
databases; what changes is the email side. A personal Gmail account
accepts about 500 emails a day, so at this rate the site moves to a
transactional email service (Postmark or Mailgun through `EMAIL_BACKEND`,
see docs/deploy.md) and runs the workers from the table, kept under the
service's rate limit: each worker sends one email at a time, so N workers
at 300 ms make at most about 3N emails a second. Count connections against
the plans' limits: each worker holds 3 to Redis and 1 to PostgreSQL, each
gunicorn worker 2 and 1 (see docs/reliability.md). Redis needs room for the
backlog of an SMTP outage: at
{redis_queued} a queued message, an hour of it at this rate takes
{backlog_hour}; finished jobs ({redis_finished} each) stay only a minute.

**A thousand times the load.** Web processes behind a load balancer on as
many machines as the table says, one gunicorn worker per core, static
files from a CDN. PostgreSQL takes thousands of commits a second: put
PgBouncer in front of it rather than raising `max_connections`, give it
fast storage for the write-ahead log (every commit waits for it), and let
`purge_messages` keep the table to its retention. Redis approaches what one
instance serves (on the order of 100,000 commands a second), so split the
queue across instances or cut RQ's per-job commands. A minute of finished
jobs alone would take {finished_minute_1000x}, so delete them at once
(`result_ttl=0` in `contact/queue.py`, a few more commands per job). Turn on
persistence (AOF) for the backlog, although the sweeper requeues from the
rows what a lost Redis forgets. Workers: as many as the provider's rate
limit allows and no more; past it, RQ's retries with backoff absorb the
provider's 4xx answers. Queue priorities: send owner notifications from a
queue the workers read first and auto-replies from a second one
(`rqworker owner autoreply`), so a flood of auto-replies, or the spam that
comes with popularity, never delays the owner's copy.
"""
