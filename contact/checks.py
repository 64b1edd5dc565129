"""Checks of the contact pipeline's settings, run by ``manage.py check``.

The Procfile's ``release`` step runs ``migrate``, which runs them too, so a
deployment with an unusable sender address stops there instead of failing
every message in the worker.
"""

from email.utils import parseaddr

from django.conf import settings
from django.core.checks import Error, register

from . import emails


@register()
def check_sender_address(app_configs=None, **kwargs) -> list[Error]:
    address = emails.site_address()[1]
    if "@" in address and parseaddr(address)[1] == address:
        return []
    return [
        Error(
            f"DEFAULT_FROM_EMAIL is not an email address: "
            f"{settings.DEFAULT_FROM_EMAIL!r}.",
            hint="Set it to the site's own address, e.g. site@example.org.",
            id="contact.E001",
        )
    ]
