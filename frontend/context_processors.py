from django.conf import settings


def site(request) -> dict:
    """Expose the owner's site name and introduction to every template."""
    return {
        "site_name": settings.SITE_NAME,
        "site_owner_name": settings.SITE_OWNER_NAME,
        "site_tagline": settings.SITE_TAGLINE,
        "site_intro": settings.SITE_INTRO,
    }


def csp_nonce(request) -> dict:
    """Expose the request's Content-Security-Policy nonce as ``csp_nonce``.

    django-csp puts the nonce in the header only once a template has used it,
    so pages without inline scripts keep a policy without one.
    """
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
