"""Domain errors of the session lifecycle, mapped to HTTP statuses and WebSocket close codes."""


class SessionError(Exception):
    """Base class: each subclass names its API error code."""

    code = "session_error"
    detail = "Session error."

    def __init__(self, detail: str | None = None):
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail


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
