"""Domain errors of customer notifications (REST maps them through DomainError's status)."""

from supportdesk.errors import DomainError


class NotificationError(DomainError):
    code = "notification_error"
    detail = "Notification error."


class ResumeLinkInvalid(NotificationError):
    code = "resume_link_invalid"
    detail = "This link is invalid, has expired or was already used. Start a new conversation."
    status = 400


class EmailRequired(NotificationError):
    code = "email_required"
    detail = "Give an email address to send the transcript to."
    status = 400


class SessionNotClosed(NotificationError):
    code = "session_not_closed"
    detail = "The transcript can be emailed once the conversation is closed."
    status = 409


class TranscriptRecentlySent(NotificationError):
    code = "transcript_recently_sent"
    detail = "The transcript was just sent. Please check your inbox."
    status = 429
