"""Views that exist only to be measured against the site's contact form.

``trivial`` is the floor: the least a Django view can do behind the site's
middleware. The two contact views are the designs the queue replaced: sending
both emails inside the request, and sending them from a daemon thread started
by the request (fast, but a crash or a restart loses the mail). Both validate
and save the message exactly as the site does, only without the queue.
"""

import logging
import threading
from http import HTTPStatus

from django import forms
from django.core import mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from contact import emails
from contact.forms import ContactForm
from contact.models import ContactMessage

logger = logging.getLogger(__name__)


@require_GET
def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_POST
def contact_inline(request: HttpRequest) -> HttpResponse:
    """Save the message and send both emails before answering."""
    return _handle(request, _send_both)


@require_POST
def contact_thread(request: HttpRequest) -> HttpResponse:
    """Save the message and send both emails from a daemon thread."""
    return _handle(
        request,
        lambda message: threading.Thread(
            target=_send_both, args=(message,), daemon=True
        ).start(),
    )


def _handle(request: HttpRequest, deliver) -> HttpResponse:
    form = ContactForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "contact/_form.html",
            {"form": form},
            status=HTTPStatus.UNPROCESSABLE_ENTITY,
        )
    # ModelForm's own save: the row without the job ContactForm.save queues.
    message = forms.ModelForm.save(form)
    deliver(message)
    context = {"contact": message, "polling": False, "polling_expired": False}
    return render(request, "contact/_confirmation.html", context)


def _send_both(message: ContactMessage) -> None:
    try:
        # One connection for both emails, as the worker does.
        with mail.get_connection() as connection:
            connection.send_messages(
                [emails.owner_notification(message), emails.autoreply(message)]
            )
    except Exception:
        logger.exception("Contact message %s: sending failed", message.reference)
        raise
