"""Settings for the test suite: the site's own, with test-friendly services.

Tests run against the PostgreSQL that every development and CI machine runs
(``TEST_DATABASE_URL`` overrides it). Unit tests swap Redis for fakeredis at one
seam (``contact.queue.get_redis``); integration tests start their own Redis,
worker and SMTP server.
"""

import hashlib
import os

import fakeredis

os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ["DATABASE_URL"] = os.environ.get(
    "TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"
)

from site_config.settings import *  # noqa: E402,F403

# One test database per checkout, so two checkouts can run the suite at once.
DATABASES["default"]["TEST"] = {  # noqa: F405
    "NAME": "test_contact_" + hashlib.sha1(str(BASE_DIR).encode()).hexdigest()[:8]  # noqa: F405
}

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CONTACT_OWNER_EMAIL = "owner@example.net"
DEFAULT_FROM_EMAIL = "site@example.org"
SITE_NAME = "Test Portfolio"
CONTACT_RETRY_INTERVALS = [1, 2, 4]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The abuse guards are off here, as in every load or smoke check that posts at
# machine speed from one address; the tests of each guard switch it on.
CONTACT_MIN_FILL_SECONDS = 0
CONTACT_RATE_LIMIT_PER_IP = None
CONTACT_RATE_LIMIT_PER_EMAIL = None

# The rate limits' Redis cache runs on fakeredis, like the queue; integration
# tests point it at a real Redis. tests/conftest.py empties it for each test.
CACHES["ratelimit"]["OPTIONS"]["connection_class"] = fakeredis.FakeRedisConnection  # noqa: F405
