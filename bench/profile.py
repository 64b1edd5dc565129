"""Where a worker's CPU goes: py-spy samples grouped by what the job is doing.

py-spy (requirements-dev.txt) samples the worker while it drains the queue,
counting only samples that hold the GIL, so waiting on PostgreSQL, Redis or
the SMTP server is left out. Each sample goes to the first group, in the
order below, whose marker appears anywhere in its stack.
"""

import shutil
import subprocess
from collections import Counter
from pathlib import Path

# (group, markers): py-spy names a frame "function (file:line)".
GROUPS = [
    ("claim and read the message", ("_claim (",)),
    ("record each email and its history", ("_record (", "_release (")),
    ("the auto-reply rule's reservation in Redis", ("reason_to_skip (",)),
    ("render the email templates", ("render_to_string (",)),
    ("build and serialise the MIME messages", ("as_bytes (", ".message (")),
    ("SMTP conversation", ("EmailBackend", "smtplib.py")),
    ("rest of the job", ("Job.perform (",)),
    ("RQ: dequeue, heartbeats, job bookkeeping", ("BaseWorker.work (",)),
]


def available() -> bool:
    return shutil.which("py-spy") is not None


def start(pid: int, seconds: float, output: Path) -> subprocess.Popen:
    """Start sampling ``pid`` for ``seconds`` into ``output`` (raw format)."""
    return subprocess.Popen(
        [
            *("py-spy", "record", "--gil", "--format", "raw"),
            *("--rate", "250", "--duration", str(max(1, round(seconds)))),
            *("--pid", str(pid), "--output", str(output)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def breakdown(raw: str) -> list[tuple[str, float]]:
    """Return each group's share of the worker loop's samples, largest first.

    ``raw`` is py-spy's raw output: one line per distinct stack, frames
    joined by ";", then a space and the sample count. Samples outside the
    worker loop (the scheduler's or the command channel's threads) are left
    out.
    """
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if "BaseWorker.work (" not in stack or not count.isdigit():
            continue
        for group, markers in GROUPS:
            if any(marker in stack for marker in markers):
                counts[group] += int(count)
                break
    total = sum(counts.values())
    if not total:
        return []
    return [(group, count / total) for group, count in counts.most_common()]
