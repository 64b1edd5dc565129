"""Checks of the contact pipeline's settings, run by ``manage.py check``.

The Procfile's ``release`` step runs ``migrate``, which runs them too, so a
deployment with an unusable sender address or email backend stops there
instead of failing every message in the worker. ``check --deploy`` also warns
of the local defaults a production site must not keep.
"""

import sqlite3
from email.utils import parseaddr

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connection
from django.utils.module_loading import import_string

from . import emails

# Backends that accept every email and deliver none: each message would be
# recorded as sent while its emails went to a console, a file or nowhere.
UNDELIVERING_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


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


@register()
def check_email_backend(app_configs=None, **kwargs) -> list[Error]:
    try:
        import_string(settings.EMAIL_BACKEND)
    except ImportError as error:
        return [
            Error(
                f"EMAIL_BACKEND cannot be imported: {settings.EMAIL_BACKEND!r} "
                f"({error}).",
                hint="Check its spelling, and that the package providing it is "
                "in requirements.txt.",
                id="contact.E002",
            )
        ]
    return []


# Durations in seconds that must be above zero; a zero or negative one would
# fail every post (a retry interval) or every delivery (a lease, a timeout).
POSITIVE_DURATIONS = [
    "CONTACT_LEASE_SECONDS",
    "EMAIL_TIMEOUT",
    "EMAIL_DATA_TIMEOUT",
    "REDIS_SOCKET_TIMEOUT",
    "CONTACT_SWEEP_SECONDS",
    "CONTACT_POLL_SECONDS",
]


@register()
def check_durations(app_configs=None, **kwargs) -> list[Error]:
    errors = [
        Error(
            f"{name} must be a number of seconds above 0, not {value!r}.",
            id="contact.E003",
        )
        for name in POSITIVE_DURATIONS
        if not _positive(value := getattr(settings, name, None))
    ]
    if any(interval < 0 for interval in settings.CONTACT_RETRY_INTERVALS):
        errors.append(
            Error(
                f"CONTACT_RETRY_INTERVALS must list seconds of 0 or more, not "
                f"{settings.CONTACT_RETRY_INTERVALS!r}.",
                hint="For example 10,30,60; an empty value switches retries off.",
                id="contact.E003",
            )
        )
    return errors


@register(Tags.database)
def check_database(app_configs=None, **kwargs) -> list[Error]:
    """The worker claims a message with UPDATE ... RETURNING (contact.jobs)."""
    if connection.vendor == "postgresql":
        return []
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 35):
        return []
    return [
        Error(
            f"The database ({connection.vendor}) cannot run the worker's "
            f"claim on a message, which needs UPDATE ... RETURNING.",
            hint="Set DATABASE_URL to PostgreSQL, or leave it unset for a "
            "SQLite file (SQLite 3.35 or later) while developing.",
            id="contact.E004",
        )
    ]


@register(deploy=True)
def check_production_services(app_configs=None, **kwargs) -> list[Warning]:
    warnings = []
    if settings.EMAIL_BACKEND in UNDELIVERING_BACKENDS:
        warnings.append(
            Warning(
                f"Emails are not delivered: EMAIL_BACKEND is "
                f"{settings.EMAIL_BACKEND!r}, so every message is recorded as "
                f"sent while its emails go nowhere.",
                hint="Set EMAIL_URL to your SMTP server (or EMAIL_BACKEND to an "
                "email service's backend).",
                id="contact.W001",
            )
        )
    if connection.vendor == "sqlite":
        warnings.append(
            Warning(
                "The database is a SQLite file: each process or dyno of a "
                "deployment may see a different one.",
                hint="Set DATABASE_URL to your PostgreSQL database.",
                id="contact.W002",
            )
        )
    return warnings


def _positive(value) -> bool:
    return isinstance(value, int | float) and value > 0
