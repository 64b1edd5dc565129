from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "contact"
    verbose_name = "Contact messages"

    def ready(self) -> None:
        # Register the settings checks and connect the receiver of
        # anymail's delivery reports.
        from . import checks, tracking  # noqa: F401
