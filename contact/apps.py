from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "contact"
    verbose_name = "Contact messages"

    def ready(self) -> None:
        # Connect the receiver of anymail's delivery reports.
        from . import tracking  # noqa: F401
