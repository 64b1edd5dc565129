"""The site's settings with the benchmark's extra routes and timing header.

Every variant the benchmark compares runs in the same gunicorn, under this one
configuration, so they differ only in their views.
"""

from site_config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# Outermost, so the header covers the whole of Django's work on a request.
MIDDLEWARE = ["bench.middleware.server_timing", *MIDDLEWARE]  # noqa: F405
