"""Template filter ``{{ text|richtext }}``: message text through the one sanitising renderer.

Registered as the ``richtext`` library in settings (TEMPLATES ``libraries``), so the admin
transcript, the help center and any email template load it with ``{% load richtext %}``.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from .richtext import render

register = template.Library()


@register.filter(name="richtext", is_safe=True)
def richtext(value: object) -> SafeString:
    """Return the value rendered and sanitised by supportdesk.richtext.render."""
    # Safe by construction: render() escapes raw HTML and keeps only its allowlist.
    return mark_safe(render("" if value is None else str(value)))  # noqa: S308
