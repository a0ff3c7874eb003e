"""REST authentication for customers (`Authorization: Session <token>`) and session access."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions, status

from apikeys.authentication import ApiKeyCredential
from apikeys.permissions import is_staff_user, required_scope
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
    """Return whether the request comes from staff: an active staff user or a valid API key."""
    return is_staff_user(getattr(request, "user", None)) or isinstance(
        getattr(request, "auth", None), ApiKeyCredential
    )


def request_actor(request):
    """Return the staff user behind a request, or None for an API key (or anyone else).

    Services record an API key's actions with ``actor=None``; ``request_api_key_name`` gives
    the key's name for their metadata.
    """
    user = getattr(request, "user", None)
    return user if is_staff_user(user) else None


def request_api_key_name(request) -> str | None:
    """Return the name of the API key a request was made with, or None."""
    auth = getattr(request, "auth", None)
    return auth.name if isinstance(auth, ApiKeyCredential) else None


def _check_api_key_scope(request) -> None:
    # Views open to customers (AllowAny + session_for_request) still hold an API key to its
    # scopes: an ops-only key reads no conversation, a read-only key posts nothing.
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiKeyCredential) and not is_staff_user(getattr(request, "user", None)):
        scope = required_scope(request)
        if not auth.has_scope(scope):
            raise exceptions.PermissionDenied(f"This API key lacks the '{scope}' scope.")


def session_for_request(request, session_id: str, *, related: bool = True) -> SupportSession:
    """Return the session this request may see, or raise the API error that says why not.

    ``related=False``: without its assignee, contact and team loaded (``selectors.session_get``).
    """
    _check_api_key_scope(request)
    try:
        parsed = selectors.parse_session_id(session_id)
        if is_staff_request(request):
            return selectors.session_get(session_id=parsed, related=related)
        if not isinstance(request.auth, CustomerToken):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                raise exceptions.PermissionDenied()  # signed in, but not staff
            raise exceptions.NotAuthenticated()
        return selectors.session_for_customer(
            session_id=parsed, token=request.auth.token, related=related
        )
    except InvalidSessionId as error:
        raise ApiError(error.code, error.detail) from None
    except (SessionNotFound, SessionTokenInvalid):
        # Another session's token looks exactly like an unknown id: no existence leak.
        raise ApiError(
            SessionNotFound.code, SessionNotFound.detail, status.HTTP_404_NOT_FOUND
        ) from None


def customer_session_for_request(request, session_id: str, refusal: str) -> SupportSession:
    """Like ``session_for_request``, for what only the session's customer may do.

    Staff and API keys get 403 with ``refusal``: a customer's rating, address or transcript
    request is theirs to make, not an integration's.
    """
    session = session_for_request(request, session_id)
    if is_staff_request(request):
        raise exceptions.PermissionDenied(refusal)
    return session
