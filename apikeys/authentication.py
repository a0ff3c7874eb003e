"""DRF authentication for integrations: `Authorization: Api-Key sd_<prefix>_<secret>`."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions

from . import selectors, services

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiKeyCredential:
    """``request.auth`` for a request made with an API key (``request.user`` is anonymous)."""

    key_id: int
    name: str
    scopes: frozenset[str]

    def has_scope(self, scope: str) -> bool:
        """Return whether the key holds ``scope``."""
        return scope in self.scopes


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Accept `Authorization: Api-Key <key>`; a malformed, unknown or revoked key is a 401."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        keyword, _, key = header.partition(b" ")
        if keyword.decode("latin-1").lower() != self.keyword.lower():
            return None
        key = key.decode("latin-1").strip()
        api_key = selectors.api_key_for_secret(key) if key else None
        if api_key is None:
            # INFO, not ERROR: a client's mistake (or a probe), nothing for an operator to fix.
            # The prefix is public: it tells an operator which (revoked?) key is still in use.
            logger.info(
                "API key refused (prefix %s): malformed, unknown or revoked",
                selectors.key_prefix(key) or "-",
            )
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        services.api_key_touch(api_key=api_key)
        credential = ApiKeyCredential(
            key_id=api_key.pk, name=api_key.name, scopes=frozenset(api_key.scopes)
        )
        return AnonymousUser(), credential

    def authenticate_header(self, request):
        return self.keyword
