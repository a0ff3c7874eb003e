"""The base of every app's domain errors: a snake_case code, a detail and an HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal a service raises; views and consumers show ``code`` and ``detail`` as they are."""

    code = "invalid_field"
    detail = "Invalid request."
    status = 400

    def __init__(self, detail: str | None = None):
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail
