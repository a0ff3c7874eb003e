"""Validation errors for incoming messages; each carries the error code clients see."""


class MessageRejected(Exception):
    code = "invalid_field"

    def __init__(self, detail: str, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code


class MessageTooLong(MessageRejected):
    code = "too_long"
