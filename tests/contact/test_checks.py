from unittest import mock

from django.db import connection
from django.test import SimpleTestCase, override_settings

from contact.checks import (
    check_database,
    check_durations,
    check_email_backend,
    check_production_services,
    check_sender_address,
)


class SenderAddressCheckTests(SimpleTestCase):
    def test_a_bare_address_passes(self):
        assert check_sender_address() == []

    @override_settings(DEFAULT_FROM_EMAIL="Portfolio <site@example.org>")
    def test_an_address_with_a_display_name_passes(self):
        assert check_sender_address() == []

    @override_settings(DEFAULT_FROM_EMAIL="the site")
    def test_something_else_is_an_error(self):
        (error,) = check_sender_address()

        assert error.id == "contact.E001"


class EmailBackendCheckTests(SimpleTestCase):
    def test_an_importable_backend_passes(self):
        assert check_email_backend() == []

    @override_settings(EMAIL_BACKEND="anymail.backends.postmrak.EmailBackend")
    def test_a_misspelt_backend_is_an_error(self):
        (error,) = check_email_backend()

        assert error.id == "contact.E002"
        assert "postmrak" in error.msg


class DurationsCheckTests(SimpleTestCase):
    def test_the_defaults_pass(self):
        assert check_durations() == []

    @override_settings(CONTACT_LEASE_SECONDS=0, EMAIL_TIMEOUT=-1)
    def test_a_duration_of_zero_or_less_is_an_error(self):
        errors = check_durations()

        assert [error.id for error in errors] == ["contact.E003"] * 2
        assert "CONTACT_LEASE_SECONDS" in errors[0].msg
        assert "EMAIL_TIMEOUT" in errors[1].msg

    @override_settings(CONTACT_RETRY_INTERVALS=[10, -5])
    def test_a_negative_retry_interval_is_an_error(self):
        (error,) = check_durations()

        assert "CONTACT_RETRY_INTERVALS" in error.msg


class ProductionServicesCheckTests(SimpleTestCase):
    @override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    def test_smtp_and_postgresql_pass(self):
        assert check_production_services() == []

    @override_settings(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
    def test_the_console_and_a_sqlite_file_are_warned_of(self):
        with mock.patch.object(connection, "vendor", "sqlite"):
            warnings = check_production_services()

        assert [warning.id for warning in warnings] == ["contact.W001", "contact.W002"]


class DatabaseCheckTests(SimpleTestCase):
    def test_postgresql_passes(self):
        assert check_database() == []

    def test_a_recent_sqlite_passes(self):
        with mock.patch.object(connection, "vendor", "sqlite"):
            assert check_database() == []

    def test_a_sqlite_without_returning_is_an_error(self):
        with (
            mock.patch.object(connection, "vendor", "sqlite"),
            mock.patch("sqlite3.sqlite_version_info", (3, 31, 1)),
        ):
            (error,) = check_database()

        assert error.id == "contact.E004"

    def test_another_database_is_an_error(self):
        with mock.patch.object(connection, "vendor", "mysql"):
            (error,) = check_database()

        assert "UPDATE ... RETURNING" in error.msg
