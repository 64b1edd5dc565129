import json

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def htmx_csrf_headers(context) -> str:
    """Return the JSON for ``hx-headers`` that sends the CSRF token with htmx.

    Built with ``json.dumps`` so it stays valid JSON whatever the token holds;
    the template's autoescaping then makes it safe inside a quoted attribute.
    """
    return json.dumps({"X-CSRFToken": str(context.get("csrf_token", ""))})
