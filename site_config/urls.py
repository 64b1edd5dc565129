from django.contrib import admin
from django.urls import include, path

from contact import tracking
from contact.health import healthz

# The inbox's columns need the width more than a list of two apps does.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", include("frontend.urls")),
    path("contact/", include("contact.urls")),
    path("admin/", admin.site.urls),
    path("django-rq/", include("django_rq.urls")),
    # The email service's delivery reports (see contact.tracking).
    path("anymail/<str:service>/tracking/", tracking.webhook, name="tracking"),
    path("healthz", healthz, name="healthz"),
]
