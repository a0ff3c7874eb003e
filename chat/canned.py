"""Canned responses (saved replies agents insert in the console): reads and writes."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from supportdesk.errors import DomainError

from .models import CannedResponse


class CannedResponseError(DomainError):
    """Base class: each subclass names its API error code."""

    code = "invalid_field"
    detail = "Invalid canned response."


class ShortcutTaken(CannedResponseError):
    code = "shortcut_taken"
    detail = "Another canned response already uses this shortcut."


class CannedResponseNotFound(CannedResponseError):
    code = "canned_response_not_found"
    detail = "No such canned response."


def canned_responses_list() -> QuerySet:
    """Return every canned response by shortcut."""
    return CannedResponse.objects.order_by("shortcut")


def canned_response_get(*, canned_id: int) -> CannedResponse:
    """Return one canned response or raise CannedResponseNotFound."""
    try:
        return CannedResponse.objects.get(pk=canned_id)
    except CannedResponse.DoesNotExist:
        raise CannedResponseNotFound() from None


def _save(canned: CannedResponse, **kwargs) -> None:
    # A savepoint: a concurrent write of the same shortcut loses here with a clear code.
    try:
        with transaction.atomic():
            canned.save(**kwargs)
    except IntegrityError:
        raise ShortcutTaken() from None


@transaction.atomic
def canned_response_create(*, shortcut: str, title: str, body: str) -> CannedResponse:
    """Create a canned response; a shortcut in use raises ShortcutTaken."""
    if CannedResponse.objects.filter(shortcut=shortcut).exists():
        raise ShortcutTaken()
    canned = CannedResponse(shortcut=shortcut, title=title, body=body)
    _save(canned)
    return canned


@transaction.atomic
def canned_response_update(*, canned: CannedResponse, **fields) -> CannedResponse:
    """Change a canned response's shortcut, title or body."""
    changes = {k: v for k, v in fields.items() if k in {"shortcut", "title", "body"}}
    if not changes:
        return canned
    shortcut = changes.get("shortcut")
    if shortcut and CannedResponse.objects.filter(shortcut=shortcut).exclude(pk=canned.pk).exists():
        raise ShortcutTaken()
    for name, value in changes.items():
        setattr(canned, name, value)
    _save(canned, update_fields=[*changes, "updated_at"])
    return canned


@transaction.atomic
def canned_response_delete(*, canned: CannedResponse) -> None:
    """Delete a canned response."""
    canned.delete()
