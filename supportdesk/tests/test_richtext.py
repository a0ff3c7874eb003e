"""The one sanitising renderer: the Markdown subset renders, hostile input never becomes markup."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.template import Context, Template

from supportdesk.richtext import render

LINK_ATTRS = 'target="_blank" rel="noopener noreferrer nofollow"'


class _Markup(HTMLParser):
    """What a browser would build from the HTML: its elements and their attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.hrefs: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name == "href":
                self.hrefs.append(value or "")


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("**bold**", "<p><strong>bold</strong></p>"),
        ("*italics* and _too_", "<p><em>italics</em> and <em>too</em></p>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
        ("`a < b`", "<p><code>a &lt; b</code></p>"),
        ("```\nx = 1\n```", "<pre><code>x = 1\n</code></pre>"),
        ("line one\nline two", "<p>line one<br>\nline two</p>"),
        (
            "[our shop](https://shop.example/a?b=1&c=2)",
            f'<p><a href="https://shop.example/a?b=1&amp;c=2" {LINK_ATTRS}>our shop</a></p>',
        ),
        (
            "see https://shop.example/track now",
            f'<p>see <a href="https://shop.example/track" {LINK_ATTRS}>'
            "https://shop.example/track</a> now</p>",
        ),
        ("mailto:help@shop.example", f'<p><a href="mailto:help@shop.example" {LINK_ATTRS}>'),
        # Outside the subset: shown as typed.
        ("# not a heading", "<p># not a heading</p>"),
        ("see report.pdf", "<p>see report.pdf</p>"),
        ("", ""),
    ],
)
def test_the_markdown_subset(text, html):
    assert render(text).startswith(html)


HOSTILE = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=1</script>",
    "<svg onload=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](https://evil.example/pixel.png)",
    '[a](https://ok.example" onclick="alert(1))',
    '[a](https://ok.example "title" onmouseover=alert(1))',
    '<https://ok.example/" onmouseover="alert(1)>',
    "https://ok.example/<script>alert(1)</script>",
    '`<img src=x onerror="alert(1)">`',
    "**<b onclick=alert(1)>x</b>**",
    "<!-- comment --><style>body{display:none}</style>",
    '<p style="position:fixed" class="x" id="y">x</p>',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_never_becomes_markup(text):
    markup = _Markup(render(text))
    assert markup.tags <= {"p", "br", "strong", "em", "ul", "ol", "li", "code", "pre", "a"}
    assert markup.attributes <= {"href", "target", "rel", "start"}
    for href in markup.hrefs:
        assert href.split(":", 1)[0] in ("http", "https", "mailto"), href
        assert "<" not in href and '"' not in href


def test_raw_html_is_shown_as_text():
    assert render('<img src=x onerror="window.__xss=1">') == (
        '<p>&lt;img src=x onerror="window.__xss=1"&gt;</p>'
    )


def test_a_link_with_a_forbidden_scheme_keeps_its_text_but_loses_its_target():
    # Relative and unknown schemes are dropped: only http, https and mailto lead anywhere.
    relative = render("[help](/help/x/)")
    assert "href" not in relative and ">help</a>" in relative
    assert "href" not in render("[ftp](ftp://files.example/x)")


def test_template_filter_renders_through_the_same_renderer():
    html = Template("{% load richtext %}{{ text|richtext }}").render(
        Context({"text": "**hi** <script>x</script>"})
    )
    assert html == render("**hi** <script>x</script>")
    assert "<strong>hi</strong>" in html and "<script>" not in html
    assert Template("{% load richtext %}{{ text|richtext }}").render(Context({"text": None})) == ""
