import re
from functools import partial

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import queue
from .models import ContactMessage

# Line breaks and other control characters have no place in a one-line field
# that ends up in an email header.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _one_line(value: str) -> str:
    return " ".join(_CONTROL_CHARACTERS.sub(" ", value).split())


class ContactForm(forms.ModelForm):
    """The public contact form: validates a message, saves it, queues delivery."""

    class Meta:
        model = ContactMessage
        fields = ["name", "email", "subject", "message"]
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
        # Empty and blank-after-folding fields read the same to the visitor.
        error_messages = {
            "name": {"required": _("Please tell me your name.")},
            "email": {"required": _("Please give an email address to reply to.")},
            "subject": {"required": _("Please add a subject.")},
            "message": {"required": _("Please write a message.")},
        }

    def __init__(self, *args, **kwargs):
        # Labels sit above their inputs, where a trailing colon adds nothing.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        """Fold line breaks to spaces: the name becomes a Reply-To display name."""
        name = _one_line(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(_("Please tell me your name."), code="required")
        return name

    def clean_subject(self) -> str:
        """Fold line breaks to spaces: the subject goes into an email header."""
        subject = _one_line(self.cleaned_data["subject"])
        if not subject:
            raise forms.ValidationError(_("Please add a subject."), code="required")
        return subject

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].strip()
        if not message:
            raise forms.ValidationError(_("Please write a message."), code="required")
        return message

    def save(self) -> ContactMessage:
        """Save the message and queue its delivery once the row is committed.

        The job is enqueued from ``on_commit``, never before: a worker must not
        look for a row that a rollback would remove. If Redis is unreachable the
        row is still saved as queued and the sweeper enqueues it later.
        """
        with transaction.atomic():
            message = super().save()
            transaction.on_commit(
                partial(
                    queue.enqueue_delivery,
                    message.pk,
                    message.job_id,
                    message.reference,
                )
            )
        return message
