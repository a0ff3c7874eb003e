"""Domain errors of the session lifecycle, mapped to HTTP statuses and WebSocket close codes."""

from supportdesk.errors import DomainError


class SessionError(DomainError):
    """Base class: each subclass names its API error code."""

    code = "session_error"
    detail = "Session error."


class InvalidSessionId(SessionError):
    code = "invalid_session_id"
    detail = "The session id is not a valid UUID."


class SessionNotFound(SessionError):
    code = "session_not_found"
    detail = "No such session."


class SessionTokenInvalid(SessionError):
    code = "authentication_failed"
    detail = "The session token is missing or wrong."


class SessionClosed(SessionError):
    code = "session_closed"
    detail = "The session is closed."


class InvalidTransition(SessionError):
    code = "invalid_transition"
    detail = "That change is not possible in the session's current state."


class AlreadyAssigned(SessionError):
    code = "already_assigned"
    detail = "Another agent has already taken over this session."


class AlreadyRated(InvalidTransition):
    code = "already_rated"
    detail = "This conversation has already been rated."


class WidgetError(SessionError):
    """Base class of the widget's refusals (site, origin, identity); ``status`` is HTTP's."""

    code = "widget_error"
    status = 400


class UnknownSite(WidgetError):
    code = "unknown_site"
    detail = "No website has this site key."


class OriginNotAllowed(WidgetError):
    code = "origin_not_allowed"
    detail = "This website does not allow the widget on this origin."
    status = 403


class IdentityHashMissing(WidgetError):
    code = "identity_hash_missing"
    detail = "user_id must come with user_hash (hex HMAC-SHA256 of user_id with the site's secret)."


class IdentityInvalid(WidgetError):
    code = "identity_invalid"
    detail = "user_hash does not match user_id: the identity was refused."
    status = 403


class ContactConflict(WidgetError):
    code = "contact_exists"
    detail = "A contact with this external_id already exists for this website."
    status = 409


class LabelNotFound(SessionError):
    code = "label_not_found"
    detail = "No such label."
    status = 404


class LabelTaken(SessionError):
    code = "label_exists"
    detail = "A label with this name already exists (names are compared case-insensitively)."
    status = 409


class InvalidSnooze(SessionError):
    code = "invalid_field"
    detail = "until must be a time in the future, at most 90 days ahead."
