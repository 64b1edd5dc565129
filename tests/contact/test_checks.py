from django.test import SimpleTestCase, override_settings

from contact.checks import check_sender_address


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
