"""Cloudflare Turnstile: an optional challenge the form checks before saving.

It is on when both ``TURNSTILE_SITE_KEY`` and ``TURNSTILE_SECRET_KEY`` are set.
The browser runs Cloudflare's widget, which puts a one-time token in the form;
:func:`verify` asks Cloudflare whether the token is good, within
``TURNSTILE_TIMEOUT`` seconds.
"""

import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from django import forms
from django.conf import settings
from django.forms.widgets import Script
from django.utils.html import format_html

logger = logging.getLogger(__name__)

# The name Cloudflare's widget gives the hidden input that carries its token.
RESPONSE_FIELD = "cf-turnstile-response"
SCRIPT_URL = "https://challenges.cloudflare.com/turnstile/v0/api.js"
# Cloudflare's tokens are at most 2048 characters; anything longer is forged.
MAX_TOKEN_LENGTH = 2048


def enabled() -> bool:
    return bool(settings.TURNSTILE_SITE_KEY and settings.TURNSTILE_SECRET_KEY)


def verify(token: str, remote_ip: str | None = None) -> bool | None:
    """Return whether Cloudflare accepts ``token``, or None if it cannot tell.

    None covers a verify endpoint that times out, refuses the connection or
    answers with something other than Cloudflare's JSON: the caller decides
    what a message is worth when the check itself is unavailable.
    """
    data = {"secret": settings.TURNSTILE_SECRET_KEY, "response": token}
    if remote_ip:
        data["remoteip"] = remote_ip
    request = urllib.request.Request(
        settings.TURNSTILE_VERIFY_URL,
        data=urllib.parse.urlencode(data).encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(
            request, timeout=settings.TURNSTILE_TIMEOUT
        ) as response:
            answer = json.loads(response.read(65536))
    except (OSError, ValueError):
        # URLError, HTTPError and socket timeouts are OSErrors; a body that
        # is not JSON is a ValueError.
        logger.warning("Captcha: the verify endpoint did not answer", exc_info=True)
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("success"), bool):
        logger.warning("Captcha: the verify endpoint answered %r", answer)
        return None
    if not answer["success"]:
        logger.info("Captcha: token refused (%s)", answer.get("error-codes"))
    return answer["success"]


class TurnstileWidget(forms.Widget):
    """The element Cloudflare's script turns into the challenge.

    ``contact/captcha.js`` renders it again whenever htmx swaps in a new
    form, since Cloudflare's script only looks for widgets on page load.
    """

    class Media:
        js = [
            Script("contact/captcha.js", defer=True),
            Script(SCRIPT_URL, defer=True),
        ]

    def render(self, name, value, attrs=None, renderer=None) -> str:
        return format_html(
            '<div class="cf-turnstile" data-sitekey="{}"></div>',
            settings.TURNSTILE_SITE_KEY,
        )

    def value_from_datadict(self, data, files, name) -> str:
        return data.get(RESPONSE_FIELD, "")

    def value_omitted_from_data(self, data, files, name) -> bool:
        return RESPONSE_FIELD not in data


class TurnstileField(forms.CharField):
    widget = TurnstileWidget
    default_error_messages = {
        "required": "Please complete the check that you are a person.",
        "max_length": "The check did not work; please try it again.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "")
        kwargs.setdefault("max_length", MAX_TOKEN_LENGTH)
        super().__init__(**kwargs)
