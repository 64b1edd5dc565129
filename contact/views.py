import math
from http import HTTPStatus

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import (
    REASON_BAD_ORIGIN,
    REASON_BAD_REFERER,
    REASON_NO_REFERER,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import ngettext
from django.views import csrf
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HTMX_STOP_POLLING, push_url

from . import autoreply, ratelimit
from .forms import ContactForm
from .models import ContactMessage
from .types import HtmxHttpRequest


@require_http_methods(["GET", "HEAD", "POST"])
@vary_on_headers("HX-Request")
def contact_form(request: HtmxHttpRequest) -> HttpResponse:
    """Show the form on a page of its own, or take a submission from any page.

    htmx posts get a fragment: the confirmation, or the form with its errors.
    The confirmation also moves the address bar to the message's status page,
    so reloading, bookmarking or going back and forward shows whole pages.
    Plain posts follow post/redirect/get to that same page. A valid message
    over a rate limit gets the form back, text kept, with HTTP 429 and a note
    saying when to try again; nothing is saved.
    """
    if request.method in ("GET", "HEAD"):
        return render(request, "contact/contact_page.html", {"form": ContactForm()})

    form = ContactForm(request.POST, client_ip=ratelimit.client_ip(request))
    template = "contact/_form.html" if request.htmx else "contact/contact_page.html"
    if not form.is_valid():
        return render(
            request,
            template,
            {"form": form},
            status=HTTPStatus.UNPROCESSABLE_ENTITY,
        )

    limited = ratelimit.check(request, form.cleaned_data["email"])
    if limited:
        response = render(
            request,
            template,
            {"form": form, "rate_limited": _try_again_in(limited.retry_after)},
            status=HTTPStatus.TOO_MANY_REQUESTS,
        )
        response["Retry-After"] = str(limited.retry_after)
        return response

    message = form.save()
    if request.htmx:
        response = render(
            request, "contact/_confirmation.html", _status_context(message)
        )
        return push_url(response, message.get_absolute_url())
    return redirect(message)


@require_safe
@never_cache
@vary_on_headers("HX-Request")
def message_status(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Show a message's delivery status: a fragment to htmx, a page otherwise.

    Only the database is read, so polling costs Redis nothing. Once the status
    is final, or the visitor has waited ``CONTACT_POLL_SECONDS``, htmx gets a
    fragment without a polling trigger and HTTP 286, which stops the poll.
    htmx restoring its history asks for a whole page, and gets one.
    """
    message = get_object_or_404(ContactMessage, token=token)
    context = _status_context(message)
    if not request.htmx or request.htmx.history_restore_request:
        return render(request, "contact/status_page.html", context)

    response = render(request, "contact/_status.html", context)
    if not context["polling"]:
        response.status_code = HTMX_STOP_POLLING
    return response


def csrf_failure(request: HtmxHttpRequest, reason: str = "") -> HttpResponse:
    """Give a contact form post that failed the CSRF check its form back.

    People meet this when the CSRF cookie is gone or changed: cookies
    cleared, a page left open across a log-in, a browser that dropped them.
    Nothing is saved; the form comes back with HTTP 403, the visitor's text,
    a fresh token, so sending again works, and a note saying what happened.
    Other refused requests get Django's own page, and so does a plain post
    from another site: its text is not the visitor's, and must not come back
    looking like it. An htmx post cannot come from another site (its header
    needs the site's consent), so one refused for its origin means a proxy
    misconfigured in front of the site; it still gets the form, not a page
    swapped into the form's box.
    """
    if request.method != "POST" or request.path != reverse("contact:form"):
        return csrf.csrf_failure(request, reason)
    if _from_another_site(reason) and not request.htmx:
        return csrf.csrf_failure(request, reason)

    # The signed start time comes back too, so the time trap still counts
    # from when the visitor began typing.
    kept = ("name", "email", "subject", "message", "started")
    form = ContactForm(initial={name: request.POST.get(name, "") for name in kept})
    template = "contact/_form.html" if request.htmx else "contact/contact_page.html"
    response = render(
        request,
        template,
        {"form": form, "csrf_failed": True},
        status=HTTPStatus.FORBIDDEN,
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


def _from_another_site(reason: str) -> bool:
    """Return True if the CSRF check refused a post's Origin or Referer.

    A post without a Referer (some browsers and privacy tools send none)
    may well be the visitor's own.
    """
    if reason == REASON_NO_REFERER:
        return False
    return reason.startswith(
        (REASON_BAD_ORIGIN.partition("%s")[0], REASON_BAD_REFERER.partition("%s")[0])
    )


def _status_context(message: ContactMessage) -> dict:
    expired = message.polling_expired(settings.CONTACT_POLL_SECONDS)
    return {
        "contact": message,
        "autoreply_status": autoreply.status_shown(message),
        "polling": not message.is_final and not expired,
        "polling_expired": expired and not message.is_final,
    }


def _try_again_in(seconds: int) -> str:
    if seconds <= 60:
        return "a minute"
    if seconds < 3600:
        minutes = math.ceil(seconds / 60)
        return ngettext("%d minute", "%d minutes", minutes) % minutes
    hours = math.ceil(seconds / 3600)
    return ngettext("%d hour", "%d hours", hours) % hours
