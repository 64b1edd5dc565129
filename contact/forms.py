import logging
import re
import time

from django import forms
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils.encoding import punycode
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import captcha, queue
from .models import ContactMessage
from .text import looks_empty, one_line

logger = logging.getLogger(__name__)

# Only plain addresses: no quoted local parts, spaces or control characters,
# which some mail software mishandles and no person needs on a contact form.
_UNSAFE_IN_ADDRESS = re.compile(r'[\s"\\\x00-\x1f\x7f-\x9f]')

STARTED_SALT = "contact.forms.started"


def _signed_now() -> str:
    return signing.dumps(time.time(), salt=STARTED_SALT)


class HoneypotInput(forms.TextInput):
    """A text field hidden from people, which form-filling bots fill in.

    It counts as a hidden field, so templates that list ``hidden_fields``
    place it; its container's ``hidden`` attribute keeps it off screen, out
    of the tab order and away from screen readers.
    """

    @property
    def is_hidden(self) -> bool:
        return True

    def render(self, name, value, attrs=None, renderer=None) -> str:
        attrs = {**(attrs or {}), "autocomplete": "off", "tabindex": "-1"}
        return format_html(
            '<div class="contact-form__trap" hidden><label for="{}">{}</label>{}</div>',
            attrs.get("id", ""),
            _("Leave this field empty"),
            super().render(name, value, attrs, renderer),
        )


class MultilineField(forms.CharField):
    """A text area's value with each line break as one character.

    Browsers post a text area's line breaks as CRLF but count them as one
    character against ``maxlength``; counted as two here, a message the
    browser let through would be refused as too long.
    """

    def to_python(self, value) -> str:
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


class ContactForm(forms.ModelForm):
    """The public contact form: validates a message, saves it, queues delivery.

    Messages that trip a guard (the hidden field filled in, posted faster
    than ``CONTACT_MIN_FILL_SECONDS``, or a human check that could not be
    verified) are still valid: the sender sees the usual confirmation, and
    the message is saved as spam for the owner to review instead of emailed.
    """

    website = forms.CharField(required=False, widget=HoneypotInput, max_length=200)
    started = forms.CharField(
        required=False, widget=forms.HiddenInput, initial=_signed_now, max_length=200
    )

    class Meta:
        model = ContactMessage
        fields = ["name", "email", "subject", "message"]
        field_classes = {"message": MultilineField}
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "message": forms.Textarea(attrs={"rows": 6}),
        }
        labels = {
            "name": _("Your name"),
            "email": _("Your email"),
            "subject": _("Subject"),
            "message": _("Message"),
        }
        # The text area's maxlength cuts a longer paste short without a word;
        # the limit is said beside it.
        help_texts = {"message": _("Up to 5,000 characters.")}
        # Empty and blank-after-folding fields read the same to the visitor.
        error_messages = {
            "name": {"required": _("Please tell me your name.")},
            "email": {"required": _("Please give an email address to reply to.")},
            "subject": {"required": _("Please add a subject.")},
            "message": {"required": _("Please write a message.")},
        }

    def __init__(self, *args, client_ip: str | None = None, **kwargs):
        # Labels sit above their inputs, where a trailing colon adds nothing.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.client_ip = client_ip
        self.spam_reason = ""
        if captcha.enabled():
            self.fields["captcha"] = captcha.TurnstileField()

    def clean_name(self) -> str:
        """Fold line breaks to spaces: the name becomes a Reply-To display name."""
        name = one_line(self.cleaned_data["name"])
        if looks_empty(name):
            raise forms.ValidationError(_("Please tell me your name."), code="required")
        return name

    def clean_email(self) -> str:
        """Accept only a plain address that every mail server takes as written.

        Django's own check has already refused non-ASCII local parts. A
        domain in any script is fine if it has an ASCII (IDNA) form, which is
        what the emails use; it is stored in one canonical spelling, so that
        ``bücher.example``, ``xn--bcher-kva.example`` and ``BÜCHER.example``
        count as one address for the rate limits and the auto-reply rule.
        """
        email = self.cleaned_data["email"]
        if _UNSAFE_IN_ADDRESS.search(email):
            raise forms.ValidationError(
                _("Enter an address without quotes or spaces."), code="invalid"
            )
        local, _at, domain = email.rpartition("@")
        if domain.startswith("["):
            raise forms.ValidationError(
                _("Enter an address with a domain name, not an IP address."),
                code="invalid",
            )
        if "." not in domain:
            # Such as "localhost", which Django accepts: a mailbox on the
            # site's own machine, not one a visitor reads.
            raise forms.ValidationError(
                _("Enter an address with a full domain name, like example.com."),
                code="invalid",
            )
        try:
            domain = punycode(domain).encode("ascii").decode("idna")
        except UnicodeError:
            raise forms.ValidationError(
                _("This domain name cannot be used for email."), code="invalid"
            ) from None
        return f"{local}@{domain.lower()}"

    def clean_subject(self) -> str:
        """Fold line breaks to spaces: the subject goes into an email header."""
        subject = one_line(self.cleaned_data["subject"])
        if looks_empty(subject):
            raise forms.ValidationError(_("Please add a subject."), code="required")
        return subject

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].strip()
        # A message of invisible characters alone would reach the owner blank.
        if looks_empty(message):
            raise forms.ValidationError(_("Please write a message."), code="required")
        return message

    def clean_captcha(self) -> str:
        """Ask Cloudflare about the challenge's token.

        A refused token is a field error, so a person can try the challenge
        again. If Cloudflare cannot be asked, the message is kept for the
        owner to review rather than lost or let through unchecked.
        """
        token = self.cleaned_data["captcha"]
        verdict = captcha.verify(token, self.client_ip)
        if verdict is False:
            raise forms.ValidationError(
                _("The check did not work; please try it again."), code="invalid"
            )
        if verdict is None:
            self._hold("the human check could not be verified")
        return token

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("website"):
            self._hold("the hidden field was filled in")
        minimum = settings.CONTACT_MIN_FILL_SECONDS
        if minimum:
            try:
                started = float(
                    signing.loads(cleaned.get("started") or "", salt=STARTED_SALT)
                )
            except (signing.BadSignature, TypeError, ValueError):
                self._hold("the form's timestamp was missing or altered")
            else:
                elapsed = time.time() - started
                if elapsed < minimum:
                    self._hold(f"posted {elapsed:.1f} s after the form was served")
        return cleaned

    def _hold(self, reason: str) -> None:
        if not self.spam_reason:
            self.spam_reason = reason

    @property
    def is_spam(self) -> bool:
        return bool(self.spam_reason)

    def save(self) -> ContactMessage:
        """Save the message and queue its delivery once the row is committed.

        The job is enqueued from ``on_commit``, never before: a worker must not
        look for a row that a rollback would remove. If Redis is unreachable the
        row is still saved as queued and the sweeper enqueues it later. A
        message held as spam is saved with both emails skipped and no job.
        """
        if self.is_spam:
            return self._save_as_spam()
        with transaction.atomic():
            message = super().save()
            queue.enqueue_on_commit(message.pk, message.job_id, message.reference)
        return message

    def _save_as_spam(self) -> ContactMessage:
        message = super().save(commit=False)
        message.is_spam = True
        message.spam_reason = self.spam_reason[:100]
        message.owner_email_status = ContactMessage.EmailStatus.SKIPPED
        message.autoreply_status = ContactMessage.EmailStatus.SKIPPED
        message.save()
        logger.info(
            "Contact message %s: held as spam, %s",
            message.reference,
            message.spam_reason,
        )
        return message
