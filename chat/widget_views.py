"""The embeddable widget's HTTP side: the loader script, the per-site config and the framed page.

The widget's framed page is the ONLY page the desk lets another origin frame: its CSP says
`frame-ancestors <the site's allowed origins>` and it drops X-Frame-Options; every other page
keeps `frame-ancestors 'none'` and `X-Frame-Options: DENY`. docs/widget.md has the threat model.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from sessions_app.exceptions import UnknownSite
from sessions_app.selectors import website_by_key
from supportdesk.conf import app_setting

from .views import attachment_limits

logger = logging.getLogger(__name__)

LOADER_PATH = settings.BASE_DIR / "static" / "widget" / "loader.js"
# Short: a new loader reaches every host page within minutes; per-site settings are not in
# it (they come from the config endpoint), so editing a site never waits for this cache.
LOADER_MAX_AGE = 300


@lru_cache(maxsize=1)
def _loader_source() -> bytes:
    return LOADER_PATH.read_bytes()


def _error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "detail": detail}}, status=status)


@require_GET
def widget_loader(request):
    """Serve widget.js, the dependency-free loader a host page includes with its site key."""
    response = HttpResponse(_loader_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={LOADER_MAX_AGE}"
    # Other origins load it with <script>: say so explicitly for Cross-Origin-Embedder-Policy.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@never_cache
@require_GET
def widget_config(request, site_key: str):
    """Return the site's public look (name, colour, greeting) to the loader, CORS-checked.

    Only an allowed origin gets an `Access-Control-Allow-Origin`; the loader on any other
    page cannot read the answer and draws no launcher.
    """
    try:
        website = website_by_key(site_key=site_key)
    except UnknownSite as error:
        return _error(error.code, error.detail, 404)
    origin = request.headers.get("Origin", "")
    if not origin and request.headers.get("Sec-Fetch-Site") == "same-origin":
        # Browsers send no Origin on a same-origin GET: a page on the desk's own origin.
        origin = request.build_absolute_uri("/").rstrip("/")
    if not website.allows_origin(origin):
        logger.info("Widget config for %s refused to origin %r", site_key, origin)
        response = _error("origin_not_allowed", "This website does not allow this origin.", 403)
        response["Vary"] = "Origin"
        return response
    response = JsonResponse(
        {
            "name": website.name,
            "greeting": website.greeting,
            "accent_color": website.accent_color,
            "frame_url": request.build_absolute_uri(f"/widget/{website.site_key}/"),
        }
    )
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


@xframe_options_exempt
@never_cache
@require_GET
def widget_frame(request, site_key: str):
    """Render the chat for the widget's iframe; only the site's allowed origins may frame it."""
    try:
        website = website_by_key(site_key=site_key)
    except UnknownSite:
        response = render(request, "widget/unavailable.html", status=404)
        response._csp_replace = {"frame-ancestors": ["'none'"]}
        return response
    response = render(
        request,
        "widget/frame.html",
        {
            "website": website,
            "max_message_chars": int(app_setting("CHAT_MAX_MESSAGE_CHARS")),
            **attachment_limits(),
        },
    )
    # django-csp reads this per response: framing allowed for exactly the site's origins.
    response._csp_replace = {"frame-ancestors": website.origins or ["'none'"]}
    return response
