"""Rate limits on the contact form, counted in Redis by django-ratelimit.

Two limits apply to every message the form would save: one per client
address (``CONTACT_RATE_LIMIT_PER_IP``) and one per sender address
(``CONTACT_RATE_LIMIT_PER_EMAIL``); ``None`` switches either off. The counters
live in the ``ratelimit`` cache, a Redis cache whose client gives up after
``REDIS_SOCKET_TIMEOUT``. When Redis does not answer, the limits are skipped
with a warning, and for a few seconds after (``queue.redis_paused``): a
visitor must never lose a message to the counters.
"""

import ipaddress
import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

from . import queue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limited:
    """A submission over a limit, and how long until the sender may post."""

    which: str
    retry_after: int


def client_ip(request: HttpRequest) -> str:
    """Return the address of the client that sent ``request``.

    Behind ``TRUST_X_FORWARDED_FOR`` proxies, each of which appends the
    address it received the request from to ``X-Forwarded-For``, that many
    entries from the right is the client as the nearest proxy saw it; the
    entries further left are whatever the client chose to send. Without
    trusted proxies, or if the header is short or malformed, the connecting
    address is used.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUST_X_FORWARDED_FOR
    if hops <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    ]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def _ip_key(group: str, request: HttpRequest) -> str:
    # One IPv6 client usually holds a whole /64; counting single addresses
    # would let it post from a new one each time.
    address = client_ip(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped:
        # An IPv4 client as a server listening on IPv6 sees it.
        return str(parsed.ipv4_mapped)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return address


def check(request: HttpRequest, email: str) -> Limited | None:
    """Count one submission from ``request`` by ``email``; return any limit hit.

    Both counters go up even when the first is already over, so a sender who
    keeps posting stays limited. Returns None when under every limit, or when
    Redis cannot be asked.
    """
    if queue.redis_paused():
        return None
    limits = [
        ("ip", settings.CONTACT_RATE_LIMIT_PER_IP, _ip_key),
        (
            "email",
            settings.CONTACT_RATE_LIMIT_PER_EMAIL,
            lambda group, request: email.lower(),
        ),
    ]
    hit = None
    for which, rate, key in limits:
        if not rate:
            continue
        try:
            usage = get_usage(
                request,
                group=f"contact:{which}",
                key=key,
                rate=rate,
                increment=True,
            )
        except RedisError:
            # One timeout is enough: a second counter, or the enqueue that
            # follows, would only add another.
            queue.redis_failed()
            logger.warning(
                "Rate limits: Redis did not answer, the post goes through",
                exc_info=True,
            )
            return None
        if usage and usage["should_limit"] and hit is None:
            hit = Limited(which, max(int(usage["time_left"]), 1))
    if hit:
        logger.info(
            "Rate limits: %s limit reached, retry in %s s", hit.which, hit.retry_after
        )
    return hit
