"""The one sanitising renderer for message text: a small Markdown subset to safe HTML.

Every place that shows a message as HTML (the payload's ``content_html`` for the chat page,
the widget and the console; the admin transcript; email templates through the ``richtext``
template filter) calls :func:`render`. Two well-kept libraries do the work, each for what it
is good at: markdown-it-py parses a small subset (bold, italics, lists, inline code and code
blocks, links, bare URLs made links) with raw HTML disabled, so ``<script>`` typed by anyone
is text; nh3 (Ammonia) then keeps only an allowlist of tags and attributes, whatever the
parser might have let through, and makes every link open in a new tab with
``rel="noopener noreferrer nofollow"``. Only http, https and mailto links survive.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

# The Markdown subset. "zero" starts with paragraphs and text only; each rule is opted in.
_RULES = [
    "emphasis",  # **bold**, *italics*, _italics_
    "list",  # - item, 1. item
    "backticks",  # `inline code`
    "fence",  # ``` code block ```
    "code",  # indented code block
    "link",  # [text](https://…)
    "autolink",  # <https://…>
    "linkify",  # a bare URL or www.… becomes a link
    "newline",  # a line break in a message stays one (with "breaks" below)
    "escape",  # \* shows a literal asterisk
]

_markdown = MarkdownIt("zero", {"html": False, "linkify": True, "breaks": True}).enable(_RULES)
# Links are never fuzzy-matched from bare domains ("example.com"): only URLs with a scheme
# or www., so a sentence ending with a file name ("see report.pdf") is not a link.
_markdown.linkify.set({"fuzzy_link": False, "fuzzy_email": False})

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "code", "pre", "a"})
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    """Keep a link's href only when it is absolute with an allowed scheme."""
    if tag == "a" and attribute == "href":
        try:
            scheme = urlsplit(value.strip()).scheme.lower()
        except ValueError:
            return None
        return value if scheme in ALLOWED_SCHEMES else None
    return value


_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style"},
    # "*": nothing generic (Ammonia would keep lang and title on every tag).
    attributes={"*": set(), "a": {"href"}, "ol": {"start"}},
    attribute_filter=_attribute_filter,
    url_schemes=set(ALLOWED_SCHEMES),
    link_rel=LINK_REL,
    set_tag_attribute_values={"a": {"target": "_blank"}},
    strip_comments=True,
)

# Replays and REST pages render the same texts again; a bounded cache keeps that cheap.
_CACHE_SIZE = 2048


@lru_cache(maxsize=_CACHE_SIZE)
def render(text: str) -> str:
    """Return ``text`` (Markdown subset) as sanitised HTML, safe to insert into a page."""
    if not text:
        return ""
    return _cleaner.clean(_markdown.render(text)).strip()
