"""The Content-Security-Policy middleware, with room for the queue dashboard.

The site's own pages work under the strict policy in settings. django-rq's
dashboard, shown only to staff, ships templates with a few inline scripts
(the job lists' select-all boxes) and inline styles; on its pages, and only
there, inline scripts and styles are allowed so that it keeps working.
"""

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.urls import reverse

DASHBOARD_ALLOWANCE = {"script-src": [UNSAFE_INLINE], "style-src": [UNSAFE_INLINE]}


def dashboard_prefixes() -> tuple[str, ...]:
    """Return the URL prefixes of django-rq's dashboard: its own and the admin's."""
    return (
        reverse("django_rq:home"),
        reverse("admin:django_rq_dashboard_changelist"),
    )


class SiteCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(dashboard_prefixes()):
            parts.update = {**(parts.update or {}), **DASHBOARD_ALLOWANCE}
        return parts
