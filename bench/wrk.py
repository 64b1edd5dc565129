"""Running wrk: the Lua script for a request shape, and reading its results.

wrk's ``--latency`` table stops at 50/75/90/99 %, so the script's ``done``
hook prints one line of its own with every figure the report needs, p95
included, in microseconds.
"""

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "wrk is not installed; on Debian or Ubuntu: apt-get install wrk"

# Replaced in the body by a number unique to each request, so every post comes
# from its own address as real visitors' would.
UNIQUE = "__N__"

RESULT_PREFIX = "BENCH-RESULT"

_SCRIPT = """\
-- Generated for one benchmark run; see bench/wrk.py.
local method = {method}
local path = {path}
local headers = {headers}
local body = {body}
local run = {run}
local counter = 0
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function request()
  counter = counter + 1
  local payload = nil
  if body then
    local unique = run .. "-" .. thread_number .. "-" .. counter
    payload = (body:gsub("{unique}", unique))
  end
  return wrk.format(method, path, headers, payload)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "{prefix} requests=%d duration_us=%d connect=%d read=%d write=%d " ..
    "status=%d timeout=%d mean_us=%.1f max_us=%d " ..
    "p50_us=%d p90_us=%d p95_us=%d p99_us=%d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write,
    e.status, e.timeout, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Result:
    """One wrk run: counts, and latencies in milliseconds."""

    requests: int
    seconds: float
    errors: int
    bad_status: int
    timeouts: int
    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def lua_string(value: str | None) -> str:
    """Return ``value`` as a Lua string literal (``nil`` for None)."""
    if value is None:
        return "nil"
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )
    return f'"{escaped}"'


def script(
    method: str,
    path: str,
    headers: dict[str, str],
    body: str | None = None,
    run: str = "run",
) -> str:
    """Return a wrk Lua script sending one request shape.

    ``UNIQUE`` in ``body`` becomes ``<run>-<thread>-<n>`` in each request.
    """
    table = ", ".join(
        f"[{lua_string(name)}] = {lua_string(value)}" for name, value in headers.items()
    )
    return _SCRIPT.format(
        method=lua_string(method),
        path=lua_string(path),
        headers="{" + table + "}",
        body=lua_string(body),
        run=lua_string(run),
        unique=UNIQUE,
        prefix=RESULT_PREFIX,
    )


def parse(output: str) -> Result:
    """Read the line the script's ``done`` hook printed into a Result."""
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX + " "):
            values = dict(
                pair.split("=", 1) for pair in line[len(RESULT_PREFIX) :].split()
            )
            break
    else:
        raise ValueError(f"no {RESULT_PREFIX} line in wrk's output:\n{output}")

    def ms(key: str) -> float:
        return float(values[key]) / 1000

    socket_errors = sum(int(values[k]) for k in ("connect", "read", "write"))
    return Result(
        requests=int(values["requests"]),
        seconds=float(values["duration_us"]) / 1e6,
        errors=socket_errors + int(values["timeout"]),
        bad_status=int(values["status"]),
        timeouts=int(values["timeout"]),
        mean=ms("mean_us"),
        p50=ms("p50_us"),
        p90=ms("p90_us"),
        p95=ms("p95_us"),
        p99=ms("p99_us"),
        max=ms("max_us"),
    )


def binary() -> str:
    """Return wrk's path, or exit with how to install it."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(INSTALL_HINT)
    return found


def command(url: str, connections: int, seconds: float, script_path: Path) -> list[str]:
    """Return the wrk command line for one run."""
    # One thread per core at most: wrk shares the machine with the server.
    threads = 1 if connections == 1 else 2
    return [
        binary(),
        *("-t", str(threads), "-c", str(connections)),
        *("-d", f"{max(1, round(seconds))}s"),
        *("--timeout", "30s", "--latency"),
        *("-s", str(script_path)),
        url,
    ]


def start(
    url: str, connections: int, seconds: float, script_text: str, workdir: Path
) -> subprocess.Popen:
    """Start wrk against ``url`` in its own process group; see ``wait``."""
    handle, name = tempfile.mkstemp(suffix=".lua", dir=workdir)
    with os.fdopen(handle, "w") as script_file:
        script_file.write(script_text)
    return subprocess.Popen(
        command(url, connections, seconds, Path(name)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait(process: subprocess.Popen) -> Result:
    """Wait for a wrk started by ``start`` and return its result."""
    output, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}")
    return parse(output)
