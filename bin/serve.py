"""Run the site's web, worker and sweeper processes together for development.

Called by ``bin/dev`` inside the project's virtual environment. Uses Redis at
``REDIS_URL``, else on localhost:6379, else starts an embedded one.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.embedded_redis import RedisServer, answers  # noqa: E402


def main() -> int:
    env = dict(os.environ)
    env.setdefault("PORT", "8000")
    # Development runs with DEBUG on, whose error pages must not reach the
    # rest of the network.
    env.setdefault("BIND_HOST", "127.0.0.1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    embedded = None

    url = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    parsed = urlparse(url)
    if parsed.scheme == "redis" and not answers(parsed.hostname, parsed.port or 6379):
        embedded = RedisServer().start()
        env["REDIS_URL"] = embedded.url
        print(f"No Redis answered at {url}; using an embedded one at {embedded.url}.")
    else:
        env["REDIS_URL"] = url

    print(f"Site: http://127.0.0.1:{env['PORT']}/  (admin /admin/, queues /django-rq/)")
    command = [
        "honcho",
        "-f",
        str(ROOT / "Procfile"),
        "start",
        "web",
        "worker",
        "sweeper",
    ]
    try:
        honcho = subprocess.Popen(command, cwd=ROOT, env=env)
        # `kill <pid>` reaches only this process; pass it on so honcho stops
        # its processes before the embedded Redis goes.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda signum, frame: honcho.send_signal(signum))
        return honcho.wait()
    finally:
        if embedded:
            embedded.stop()


if __name__ == "__main__":
    sys.exit(main())
