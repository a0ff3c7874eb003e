"""ASGI entry point: HTTP through Django, WebSockets through Channels (origin-checked)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportdesk.settings")
# Django must be set up before anything imports models (the consumers do); this is what
# get_asgi_application() does, with our handler (one thread hop per request) in place of its.
django.setup(set_prefix=False)

from supportdesk.asgi_handler import SyncChainASGIHandler  # noqa: E402

django_asgi_app = SyncChainASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from supportdesk.degrade import DependencyOutageGuard  # noqa: E402
from supportdesk.origin import WebsocketOriginValidator  # noqa: E402
from supportdesk.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": DependencyOutageGuard(
            WebsocketOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
