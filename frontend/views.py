from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from contact.forms import ContactForm


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/home.html", {"form": ContactForm()})


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    # Pages without a link to the icon, such as the admin's, make browsers
    # ask for this path.
    return HttpResponsePermanentRedirect(static("frontend/favicon.svg"))
