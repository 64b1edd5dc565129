"""Arbitrary input against the form and the status endpoint (hypothesis).

Whatever arrives, neither endpoint answers with an error of its own (the
test client raises any exception a view lets out), every saved row holds one
valid address, and every email the job sends goes to exactly one recipient.
"""

import time
from email.utils import getaddresses
from http import HTTPStatus
from urllib.parse import quote

from django.core import mail, signing
from django.core.cache import caches
from django.core.validators import validate_email
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from contact import jobs
from contact.forms import STARTED_SALT
from contact.models import ContactMessage

from .helpers import VALID_POST, make_contact_message

# Text as HTTP can carry it: any Unicode but lone surrogates.
text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=200)
bytes_looking = st.one_of(
    st.binary(max_size=60).map(lambda raw: raw.decode("latin-1")),
    st.binary(max_size=60).map(repr),
    st.sampled_from(
        [
            "\x00",
            "%00%0d%0a",
            "\r\nBcc: victim@example.org",
            "a@example.com\r\nCc: b@example.org",
            "\u2028Bcc: x@example.org",
            '"x" <x@example.org>, y@example.org',
            "=?utf-8?b?QmNjOiB4QGV4YW1wbGUub3Jn?=",
            "\ufeff\u202e",
            "b'\\xff\\xfe'",
        ]
    ),
)
huge = st.integers(min_value=5001, max_value=20_000).map(lambda n: "ä" * n)
value = st.one_of(text, bytes_looking, huge)
addresses = st.one_of(st.emails(), value, st.just(VALID_POST["email"]))


def fresh_timestamp() -> str:
    return signing.dumps(time.time() - 10, salt=STARTED_SALT)


def changed_post(changes: dict, missing: set) -> dict:
    """Return a person's valid post with some fields changed or left out."""
    post = {**VALID_POST, "website": "", "started": fresh_timestamp(), **changes}
    return {key: post[key] for key in post if key not in missing}


posts = st.builds(
    changed_post,
    st.fixed_dictionaries(
        {},
        optional={
            "name": value,
            "email": addresses,
            "subject": value,
            "message": value,
            "website": value,
            "started": value,
        },
    ),
    st.sets(st.sampled_from([*VALID_POST, "website", "started"]), max_size=2),
)

SETTINGS = hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@override_settings(
    CONTACT_MIN_FILL_SECONDS=3,
    CONTACT_RATE_LIMIT_PER_IP="20/h",
    CONTACT_RATE_LIMIT_PER_EMAIL="5/h",
)
class ContactFormPropertyTests(TestCase):
    @SETTINGS
    @given(data=posts, htmx=st.booleans())
    def test_any_post_is_answered_and_never_adds_a_recipient(self, data, htmx):
        caches["ratelimit"].clear()
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

        response = self.client.post("/contact/", data, **headers)

        assert response.status_code in (
            HTTPStatus.OK,
            HTTPStatus.FOUND,
            HTTPStatus.UNPROCESSABLE_ENTITY,
            HTTPStatus.TOO_MANY_REQUESTS,
        )
        for message in ContactMessage.objects.all():
            validate_email(message.email)
            jobs.deliver_message(message.pk)
        for email in mail.outbox:
            assert len(email.recipients()) == 1
            assert len(getaddresses(email.reply_to)) == len(email.reply_to) <= 1


class MessageStatusPropertyTests(TestCase):
    @SETTINGS
    @given(token=st.one_of(value, st.just("")), htmx=st.booleans(), query=text)
    def test_any_token_is_a_page_or_a_404(self, token, htmx, query):
        message = make_contact_message()
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

        wrong = self.client.get(
            f"/contact/status/{quote(token, safe='')}/?q={quote(query)}", **headers
        )
        right = self.client.get(
            f"/contact/status/{message.token}/?q={quote(query)}", **headers
        )

        if token != message.token:
            assert wrong.status_code == HTTPStatus.NOT_FOUND
            assert message.reference.encode() not in wrong.content
        assert right.status_code == HTTPStatus.OK
