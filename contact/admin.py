from django.contrib import admin

from .models import ContactMessage


@admin.register(ContactMessage)
class ContactMessageAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "created_at",
        "name",
        "email",
        "subject",
        "status",
        "owner_email_status",
        "autoreply_status",
        "attempts",
    ]
    list_filter = ["status", "owner_email_status", "autoreply_status", "created_at"]
    search_fields = ["name", "email", "subject", "message", "reference"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "reference",
        "created_at",
        "status",
        "owner_email_status",
        "owner_email_sent_at",
        "autoreply_status",
        "autoreply_sent_at",
        "attempts",
        "last_error",
        "job_id",
        "lease_until",
    ]
    fieldsets = [
        (None, {"fields": ["name", "email", "subject", "message"]}),
        (
            "Delivery",
            {
                "fields": [
                    "reference",
                    "created_at",
                    "status",
                    ("owner_email_status", "owner_email_sent_at"),
                    ("autoreply_status", "autoreply_sent_at"),
                    "attempts",
                    "last_error",
                    "job_id",
                    "lease_until",
                ]
            },
        ),
    ]
