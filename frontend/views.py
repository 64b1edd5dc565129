from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from contact.forms import ContactForm


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "frontend/home.html", {"form": ContactForm()})
