"""What visitor text does to real emails: the job, Django's SMTP backend and
an SMTP server, with the headers read back as a mail client would."""

from email.header import decode_header, make_header
from email.headerregistry import Address
from email.utils import getaddresses

import pytest

from contact import jobs
from contact.models import ContactMessage

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

Status = ContactMessage.Status


@pytest.fixture
def send_through_smtp(settings, smtp):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""

    def deliver(**fields) -> ContactMessage:
        values = {
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "subject": "A question",
            "message": "Hello.",
        }
        values.update(fields)
        message = ContactMessage.objects.create(**values)
        jobs.deliver_message(message.pk)
        message.refresh_from_db()
        return message

    return deliver


def owner_copy(smtp):
    (envelope_from, recipients, email), *_ = [
        m for m in smtp.messages if "owner@example.net" in m[1]
    ]
    return envelope_from, recipients, email


def decoded(email, name: str) -> str:
    """Return a header as RFC 2047 decodes it from the bytes that arrived.

    Python's newer parser keeps the space left where a long header was
    folded right after its name; mail clients, like this decoder, drop it.
    """
    raw = next(value for key, value in email.raw_items() if key == name)
    return str(make_header(decode_header(raw)))


def reply_to(email) -> Address:
    (address,) = email["Reply-To"].addresses
    return address


@pytest.mark.parametrize(
    "name",
    [
        "Doe, Jane",
        '"Jane" <x@example.org>',
        "Jane <x@example.org>, y@example.org",
        "Ada\r\nBcc: victim@example.org",
    ],
)
def test_a_name_is_only_ever_a_display_name(send_through_smtp, smtp, name):
    message = send_through_smtp(name=name)

    envelope_from, recipients, owner = owner_copy(smtp)
    assert message.status == Status.SENT
    assert recipients == ["owner@example.net"]
    assert [r for _, r, _ in smtp.messages] == [
        ["owner@example.net"],
        ["grace@example.com"],
    ]
    assert reply_to(owner).addr_spec == "grace@example.com"
    assert reply_to(owner).display_name == " ".join(name.split())
    assert owner["Bcc"] is None and owner["Cc"] is None
    assert envelope_from == "site@example.org"


def test_from_and_envelope_sender_are_the_sites_own(send_through_smtp, smtp):
    send_through_smtp()

    for envelope_from, _, email in smtp.messages:
        assert envelope_from == "site@example.org"
        assert getaddresses([email["From"]])[0][1] == "site@example.org"
        assert email["Sender"] is None


def test_line_breaks_in_a_saved_subject_are_folded(send_through_smtp, smtp):
    message = send_through_smtp(subject="Hello\r\nBcc: victim@example.org\rX")

    _, recipients, owner = owner_copy(smtp)
    assert message.status == Status.SENT
    assert recipients == ["owner@example.net"]
    assert decoded(owner, "Subject") == (
        f"[Test Portfolio] Hello Bcc: victim@example.org X (ref {message.reference})"
    )


def test_long_mixed_script_names_and_emoji_subjects_decode_as_typed(
    send_through_smtp, smtp
):
    name = "Zoë Ἀριστοτέλης 李小龍 Пётр Чайковский محمد عبد الله José Ñúñez-García"
    subject = "Hello 👋🏽 from Zürich: 日本語のテスト and émojis 🚀✨"

    message = send_through_smtp(name=name, subject=subject)

    _, _, owner = owner_copy(smtp)
    assert reply_to(owner).display_name == name
    assert decoded(owner, "Subject") == (
        f"[Test Portfolio] {subject} (ref {message.reference})"
    )
    assert name in owner.get_body(("plain",)).get_content()


def test_an_internationalised_domain_arrives_in_its_ascii_form(send_through_smtp, smtp):
    message = send_through_smtp(email="zoe@bücher.example")

    _, _, owner = owner_copy(smtp)
    (_, recipients, _) = smtp.messages[-1]
    address = reply_to(owner)
    assert message.autoreply_status == ContactMessage.EmailStatus.SENT
    assert recipients == ["zoe@xn--bcher-kva.example"]
    assert address.username == "zoe"
    assert address.domain.encode().decode("idna") == "bücher.example"
