from unittest import mock

from django.test import RequestFactory, SimpleTestCase, TestCase, override_settings

from contact import queue, ratelimit


def request_from(remote="192.0.2.1", forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/contact/", **headers)


class ClientIpTests(SimpleTestCase):
    def test_the_connecting_address_without_trusted_proxies(self):
        request = request_from(forwarded="203.0.113.7")

        assert ratelimit.client_ip(request) == "192.0.2.1"

    @override_settings(TRUST_X_FORWARDED_FOR=1)
    def test_the_rightmost_entry_behind_one_proxy(self):
        request = request_from(forwarded="10.9.9.9, 198.51.100.1 ,203.0.113.7")

        assert ratelimit.client_ip(request) == "203.0.113.7"

    @override_settings(TRUST_X_FORWARDED_FOR=2)
    def test_as_many_entries_from_the_right_as_trusted_proxies(self):
        request = request_from(forwarded="10.9.9.9, 203.0.113.7, 198.51.100.1")

        assert ratelimit.client_ip(request) == "203.0.113.7"

    @override_settings(TRUST_X_FORWARDED_FOR=2)
    def test_a_short_or_malformed_header_falls_back_to_the_connection(self):
        for forwarded in ("203.0.113.7", "not-an-address, 198.51.100.1", ""):
            request = request_from(forwarded=forwarded)

            assert ratelimit.client_ip(request) == "192.0.2.1", forwarded


@override_settings(CONTACT_RATE_LIMIT_PER_IP="2/m", CONTACT_RATE_LIMIT_PER_EMAIL=None)
class CheckTests(TestCase):
    def test_one_ipv6_client_is_counted_by_its_64_block(self):
        for host in ("1", "2"):
            ratelimit.check(request_from(f"2001:db8:1:2::{host}"), "a@example.com")

        same_block = ratelimit.check(request_from("2001:db8:1:2::3"), "a@example.com")
        other_block = ratelimit.check(request_from("2001:db8:1:3::1"), "a@example.com")

        assert same_block == ratelimit.Limited("ip", same_block.retry_after)
        assert other_block is None

    def test_ipv4_clients_in_ipv6_form_are_counted_one_by_one(self):
        for _ in range(2):
            ratelimit.check(request_from("::ffff:198.51.100.1"), "a@example.com")

        same_client = ratelimit.check(request_from("198.51.100.1"), "a@example.com")
        neighbour = ratelimit.check(
            request_from("::ffff:198.51.100.2"), "a@example.com"
        )

        assert same_client == ratelimit.Limited("ip", same_client.retry_after)
        assert neighbour is None

    @override_settings(CONTACT_RATE_LIMIT_PER_IP=None)
    def test_with_both_limits_off_redis_is_never_asked(self):
        with mock.patch.object(ratelimit, "get_usage") as get_usage:
            hit = ratelimit.check(request_from(), "a@example.com")

        assert hit is None
        get_usage.assert_not_called()

    def test_redis_is_not_asked_just_after_it_failed(self):
        queue.redis_failed()

        with mock.patch.object(ratelimit, "get_usage") as get_usage:
            hit = ratelimit.check(request_from(), "a@example.com")

        assert hit is None
        get_usage.assert_not_called()
