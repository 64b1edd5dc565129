"""A description of the machine a run measured, for the report."""

import os
import platform
import re
import subprocess
from pathlib import Path

import psycopg
from redis import Redis


def describe(postgres: psycopg.Connection, redis: Redis) -> dict[str, str]:
    """Return the facts a reader needs to compare a run with their own."""
    return {
        "CPU": f"{_cpu_model()}, {os.cpu_count()} logical CPUs",
        "Memory": _memory(),
        "OS": f"{_os_name()}, Linux {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": postgres.execute("SHOW server_version").fetchone()[0],
        "Redis": redis.info("server")["redis_version"],
        "wrk": _wrk_version(),
        "Load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found[1].strip() if found else platform.machine()


def _memory() -> str:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return "unknown"
    kib = int(re.search(r"^MemTotal:\s+(\d+)", text, re.MULTILINE)[1])
    return f"{kib / 1024 / 1024:.1f} GiB"


def _os_name() -> str:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return platform.system()
    found = re.search(r'^PRETTY_NAME="?([^"\n]+)', text, re.MULTILINE)
    return found[1] if found else platform.system()


def _wrk_version() -> str:
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    found = re.search(r"wrk (\S+)", result.stdout + result.stderr)
    return found[1] if found else "unknown"
