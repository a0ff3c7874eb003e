"""Placeholders in canned responses and macros ({{customer.name}}, …): a tiny explicit substitution.

Staff write these texts, so they are never run as templates: only the names in PLACEHOLDERS
are replaced, by plain text, and anything else between braces is refused when the text is
saved (and left as typed if it ever reaches rendering). ``{{ customer.name | there }}`` gives
a fallback used when the value is unknown.
"""

from __future__ import annotations

import re

from django.conf import settings

from sessions_app.models import SupportSession
from sessions_app.serializers import user_display_name

from .models import Message, MessageRole

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*(?:\|\s*([^{}|]{0,60}?)\s*)?\}\}")
ANY_BRACES = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)

PLACEHOLDERS = {
    "customer.name": "the customer's name (contact, else pre-chat name; never the email)",
    "customer.first_name": "the first word of the customer's name",
    "customer.email": "the customer's email address",
    "agent.name": "the name of the agent sending it",
    "agent.first_name": "the agent's first name",
    "article.title": "the article the AI last cited in this conversation",
    "article.url": "that article's help-center page (or ARTICLE_URL_TEMPLATE)",
}
# How far back to look for the article the AI last cited.
_ARTICLE_LOOKBACK = 20


def placeholders_check(text: str) -> list[str]:
    """Return the problems of ``text``'s placeholders (unknown names, template tags); [] if fine."""
    problems = []
    for match in ANY_BRACES.finditer(text):
        known = PLACEHOLDER.fullmatch(match.group(0))
        if known is None or known.group(1) not in PLACEHOLDERS:
            problems.append(f"unknown placeholder {match.group(0)[:60]!r}")
    return problems


def _article_url(slug: str) -> str:
    if not slug:
        return ""
    # Default: the desk's own help center (/help/<slug>/, served by agents/helpcenter.py).
    public = (getattr(settings, "SUPPORT_PUBLIC_URL", "") or "").rstrip("/")
    template = getattr(settings, "ARTICLE_URL_TEMPLATE", "") or f"{public}/help/{{slug}}/"
    return template.replace("{slug}", slug)


def placeholder_context(*, session: SupportSession, agent=None) -> dict[str, str]:
    """Return the values of every placeholder for ``session`` answered by ``agent``."""
    contact = session.contact if session.contact_id else None
    # A name only (never the email in its place): "Hi casey@example.com" reads badly; the
    # text's fallback ({{customer.first_name|there}}) covers an unknown name.
    name = ((contact.name if contact is not None else "") or session.customer_name).strip()
    agent_name = user_display_name(agent) if agent is not None else ""
    article = {}
    recent = Message.objects.filter(
        session=session, role=MessageRole.ASSISTANT, internal=False
    ).order_by("-seq")[:_ARTICLE_LOOKBACK]
    for message in recent.only("sources"):
        sources = message.sources if isinstance(message.sources, list) else []
        if sources and isinstance(sources[0], dict):
            article = sources[0]
            break
    email = (contact.email if contact is not None else "") or session.customer_email
    return {
        "customer.name": name,
        "customer.first_name": name.split()[0] if name.strip() else "",
        "customer.email": email or "",
        "agent.name": agent_name,
        "agent.first_name": (getattr(agent, "first_name", "") or agent_name.split(" ")[0])
        if agent is not None
        else "",
        "article.title": str(article.get("title") or ""),
        "article.url": _article_url(str(article.get("slug") or "")),
    }


def placeholders_render(text: str, context: dict[str, str]) -> str:
    """Replace each known placeholder with its value (or its fallback); leave others as typed."""

    def replace(match: re.Match) -> str:
        name, fallback = match.group(1), match.group(2)
        if name not in PLACEHOLDERS:
            return match.group(0)
        return context.get(name) or (fallback or "")

    return PLACEHOLDER.sub(replace, text)
