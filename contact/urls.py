from django.urls import path, re_path

from . import views

app_name = "contact"

urlpatterns = [
    path("", views.contact_form, name="form"),
    # Tokens are URL-safe base64; anything else is a 404 before any query.
    re_path(
        r"^status/(?P<token>[A-Za-z0-9_-]{16,64})/$",
        views.message_status,
        name="status",
    ),
]
