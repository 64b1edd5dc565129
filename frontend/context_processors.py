from django.conf import settings


def site(request) -> dict:
    """Expose the owner's site name and introduction to every template."""
    return {
        "site_name": settings.SITE_NAME,
        "site_owner_name": settings.SITE_OWNER_NAME,
        "site_tagline": settings.SITE_TAGLINE,
        "site_intro": settings.SITE_INTRO,
    }
