"""Errors the fake Bot API answers with, shaped exactly like Telegram's error bodies.

Exception tree::

    SandboxError                  anything the sandbox refuses to do
    ├── ApiError                  a Bot API call Telegram would refuse (carries error_code)
    └── ControlError              a control-API request that makes no sense (unknown user, no button)
"""

from __future__ import annotations

from typing import Any


class SandboxError(Exception):
    """Base of every error the sandbox raises."""


class ApiError(SandboxError):
    """A Bot API refusal: serialised as ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_body(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """A 400 with Telegram's ``Bad Request: ...`` prefix."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """A 403 with Telegram's ``Forbidden: ...`` prefix."""
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 carrying ``parameters.retry_after`` in whole seconds, as Telegram sends it."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


class ControlError(SandboxError):
    """A control-API request the sandbox cannot carry out; answered with HTTP 400 and the reason."""
