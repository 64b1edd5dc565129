"""Run the site's web, worker and sweeper processes together for development.

Called by ``bin/dev`` inside the project's virtual environment. Uses Redis at
``REDIS_URL``, else on localhost:6379, else starts an embedded one.
"""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.embedded_redis import RedisServer, answers  # noqa: E402


def _port_is_free(host: str, port: int) -> bool:
    """Return True if gunicorn will be able to listen on host:port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        # As gunicorn does, so a port left in TIME_WAIT counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host or "0.0.0.0", port))
        except OSError:
            return False
    return True


def main() -> int:
    env = dict(os.environ)
    env.setdefault("PORT", "8000")
    # Development runs with DEBUG on, whose error pages must not reach the
    # rest of the network.
    env.setdefault("BIND_HOST", "127.0.0.1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    embedded = None

    if not _port_is_free(env["BIND_HOST"], int(env["PORT"])):
        print(
            f"Port {env['PORT']} is in use; choose another with, for example, "
            f"PORT={int(env['PORT']) + 1} ./bin/dev",
            file=sys.stderr,
        )
        return 1

    url = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    parsed = urlparse(url)
    if parsed.scheme == "redis" and not answers(parsed.hostname, parsed.port or 6379):
        embedded = RedisServer().start()
        env["REDIS_URL"] = embedded.url
        print(
            f"No Redis answered at {url}; using an embedded one at {embedded.url}.",
            flush=True,
        )
    else:
        env["REDIS_URL"] = url

    host = "127.0.0.1" if env["BIND_HOST"] in ("", "0.0.0.0") else env["BIND_HOST"]
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    print(
        f"Site: http://{host}:{env['PORT']}/  (admin /admin/, queues /django-rq/)",
        flush=True,
    )
    command = [
        "honcho",
        "-f",
        str(ROOT / "Procfile"),
        "start",
        "web",
        "worker",
        "sweeper",
    ]
    # On a terminal honcho writes there itself, in colour. Into a pipe, its
    # output goes through here instead: a reader that ends first (`| tee`
    # on Ctrl-C) would otherwise make honcho fail writing its own shutdown
    # notice and leave every process it started running.
    relay = not sys.stdout.isatty()
    try:
        honcho = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE if relay else None,
            stderr=subprocess.STDOUT if relay else None,
        )
        # `kill <pid>` reaches only this process; pass it on so honcho stops
        # its processes before the embedded Redis goes.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda signum, frame: honcho.send_signal(signum))
        if relay:
            _relay(honcho.stdout)
        return honcho.wait()
    finally:
        if embedded:
            embedded.stop()


def _relay(output) -> None:
    """Copy ``output`` to stdout until it ends, dropping it once no one reads."""
    for line in output:
        try:
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            # Keep draining so honcho never blocks on a full pipe; stdout goes
            # to /dev/null so that exiting does not fail on it too.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
