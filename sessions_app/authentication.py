"""REST authentication for customers (`Authorization: Session <token>`) and session access."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions, status

from supportdesk.api import ApiError

from . import selectors
from .exceptions import InvalidSessionId, SessionNotFound, SessionTokenInvalid
from .models import SupportSession


@dataclass(frozen=True)
class CustomerToken:
    token: str


class SessionTokenAuthentication(authentication.BaseAuthentication):
    """Accept `Authorization: Session <token>`; which session it opens is checked per view."""

    keyword = "Session"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(self.keyword + " "):
            return None
        token = header[len(self.keyword) + 1 :].strip()
        if not token or " " in token or len(token) > 128:
            raise exceptions.AuthenticationFailed("Malformed Session authorization header.")
        return AnonymousUser(), CustomerToken(token)

    def authenticate_header(self, request):
        return self.keyword


def is_staff_request(request) -> bool:
    """Return whether the request comes from staff (logged-in staff user or an API key)."""
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_staff)


def session_for_request(request, session_id: str) -> SupportSession:
    """Return the session this request may see, or raise the API error that says why not."""
    try:
        parsed = selectors.parse_session_id(session_id)
        if is_staff_request(request):
            return selectors.session_get(session_id=parsed)
        if not isinstance(request.auth, CustomerToken):
            raise exceptions.NotAuthenticated()
        return selectors.session_for_customer(session_id=parsed, token=request.auth.token)
    except InvalidSessionId as error:
        raise ApiError(error.code, error.detail) from None
    except (SessionNotFound, SessionTokenInvalid):
        # Another session's token looks exactly like an unknown id: no existence leak.
        raise ApiError(
            SessionNotFound.code, SessionNotFound.detail, status.HTTP_404_NOT_FOUND
        ) from None
