"""Macros (a reply plus labels, priority and status in one click) and rendered canned responses.

The reply goes through the one message path (staff_reply_send: a staff user replying to an
unassigned session takes it over first); labels, priority and status through sessions_app's
services. All of a macro's steps run in one transaction: a refusal (another agent holds the
session, it is closed) leaves nothing half applied.
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from sessions_app import services as session_services
from sessions_app import triage
from sessions_app.models import Label, SessionStatus
from sessions_app.selectors import session_get
from supportdesk.conf import app_setting
from supportdesk.errors import DomainError

from .models import CannedResponse, Macro, MacroStatus
from .placeholders import placeholder_context, placeholders_check, placeholders_render
from .services import MessageResult, staff_reply_send

MAX_MACROS = 500


class MacroError(DomainError):
    code = "invalid_field"
    detail = "Invalid macro."


class MacroNotFound(MacroError):
    code = "macro_not_found"
    detail = "No such macro."
    status = 404


class MacroNameTaken(MacroError):
    code = "macro_exists"
    detail = "Another macro already has this name."
    status = 409


class MacroEmpty(MacroError):
    detail = "A macro must send a reply or change labels, priority or status."


def text_validate(text: str) -> str:
    """Return ``text`` if its placeholders are all known and it fits in a reply; else raise."""
    problems = placeholders_check(text)
    if problems:
        raise MacroError("; ".join(problems) + ".")
    limit = int(app_setting("CHAT_MAX_MESSAGE_CHARS"))
    if len(text) > limit:
        raise MacroError(f"longer than {limit} characters.")
    return text


# --- Catalogue ------------------------------------------------------------------------------


def macros_list() -> QuerySet:
    """Return every macro by name, labels prefetched."""
    return Macro.objects.prefetch_related("labels").order_by("name")


def macro_get(*, macro_id: int) -> Macro:
    """Return one macro or raise MacroNotFound."""
    try:
        return Macro.objects.prefetch_related("labels").get(pk=macro_id)
    except Macro.DoesNotExist:
        raise MacroNotFound() from None


def _check(macro: Macro, labels: list[Label] | None) -> None:
    has_labels = bool(labels) if labels is not None else macro.pk and macro.labels.exists()
    if not (macro.body.strip() or has_labels or macro.priority or macro.status):
        raise MacroEmpty()
    text_validate(macro.body)


def _save(macro: Macro, labels: list[Label] | None, **kwargs) -> None:
    try:
        with transaction.atomic():
            macro.save(**kwargs)
            if labels is not None:
                macro.labels.set(labels)
    except IntegrityError:
        raise MacroNameTaken() from None


@transaction.atomic
def macro_create(
    *,
    name: str,
    body: str = "",
    labels: list[Label] | None = None,
    priority: str = "",
    status: str = "",
) -> Macro:
    """Create a macro; a name in use raises MacroNameTaken."""
    if Macro.objects.filter(name=name).exists():
        raise MacroNameTaken()
    if Macro.objects.count() >= MAX_MACROS:
        raise MacroError(f"At most {MAX_MACROS} macros.")
    macro = Macro(name=name, body=body, priority=priority, status=status)
    _check(macro, labels or [])
    _save(macro, labels or [])
    return macro


@transaction.atomic
def macro_update(*, macro: Macro, labels: list[Label] | None = None, **fields) -> Macro:
    """Change a macro's name, body, labels, priority or status."""
    changes = {k: v for k, v in fields.items() if k in {"name", "body", "priority", "status"}}
    name = changes.get("name")
    if name and Macro.objects.filter(name=name).exclude(pk=macro.pk).exists():
        raise MacroNameTaken()
    for field, value in changes.items():
        setattr(macro, field, value)
    _check(macro, labels)
    _save(macro, labels, update_fields=[*changes, "updated_at"])
    return macro


@transaction.atomic
def macro_delete(*, macro: Macro) -> None:
    """Delete a macro."""
    macro.delete()


# --- Applying -------------------------------------------------------------------------------


def macro_apply(
    *,
    macro: Macro,
    session_id: uuid.UUID | str,
    user=None,
    api_key_name: str | None = None,
) -> MessageResult | None:
    """Apply ``macro`` to the session as ``user`` (a staff user, or None for an API key).

    In order: the reply (rendered), then labels (added), priority, and status last — so
    "reply + close" sends the reply before the conversation closes. Returns the reply's
    result, or None when the macro sends none.
    """
    with transaction.atomic():
        session = session_get(session_id=session_id)
        result = None
        if macro.body.strip():
            context = placeholder_context(session=session, agent=user)
            result = staff_reply_send(
                session_id=session.pk,
                user=user,
                content=placeholders_render(macro.body, context),
                metadata={"macro": macro.name, **_key(api_key_name)},
            )
        actor = {"actor": user, "api_key_name": api_key_name}
        labels = list(macro.labels.all())
        if labels:
            triage.session_add_labels(session_id=session.pk, labels=labels, **actor)
        if macro.priority:
            triage.session_set_priority(session_id=session.pk, priority=macro.priority, **actor)
        if macro.status == MacroStatus.CLOSED:
            session_services.session_close(session_id=session.pk, **actor)
        elif macro.status == MacroStatus.ESCALATED:
            session_services.session_escalate(session_id=session.pk, reason="macro", **actor)
        elif macro.status == MacroStatus.OPEN:
            current = session_get(session_id=session.pk)
            if current.status == SessionStatus.CLOSED:
                session_services.session_reopen(session_id=session.pk, **actor)
            session_services.session_release(session_id=session.pk, **actor)
        return result


def _key(api_key_name: str | None) -> dict:
    return {"api_key": api_key_name} if api_key_name else {}


def canned_render(*, canned: CannedResponse, session_id: uuid.UUID | str, user=None) -> str:
    """Return the canned response's body with its placeholders filled in for this session."""
    session = session_get(session_id=session_id)
    return placeholders_render(canned.body, placeholder_context(session=session, agent=user))
