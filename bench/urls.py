"""The site's URLs plus the benchmark's own, which the site never serves."""

from django.urls import path

from site_config.urls import urlpatterns as site_urlpatterns

from . import views

urlpatterns = [
    path("bench/trivial/", views.trivial, name="bench-trivial"),
    path("bench/contact-inline/", views.contact_inline, name="bench-contact-inline"),
    path("bench/contact-thread/", views.contact_thread, name="bench-contact-thread"),
    *site_urlpatterns,
]
