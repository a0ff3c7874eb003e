"""The customer chat page."""

from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from supportdesk.conf import app_setting


@ensure_csrf_cookie
def chat_page(request):
    """Render the chat page; the page's script does the rest over the API and WebSocket."""
    return render(
        request,
        "chat/index.html",
        {"max_message_chars": int(app_setting("CHAT_MAX_MESSAGE_CHARS"))},
    )
