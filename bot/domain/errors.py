"""Refusals a person can cause, each with a translatable explanation.

Exception tree::

    DomainError          anything a user did that the loop refuses; ``message`` is an N_() msgid
    ├── NotAllowed       the person's role does not permit this
    ├── NotFound         the order, team or person does not exist
    ├── InvalidInput     what was typed cannot be used
    ├── Conflict         the world moved on (taken by someone else, already rated, too late)
    └── LimitReached     too many at once (open requests, requests per minute or hour)
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of all refusals; ``message`` is an English msgid and ``params`` fill its placeholders."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class NotAllowed(DomainError):
    """The acting person lacks the role for this action."""


class NotFound(DomainError):
    """The thing named does not exist."""


class InvalidInput(DomainError):
    """The input cannot be used as given."""


class Conflict(DomainError):
    """The state changed: someone else acted first, or it is too late or too early."""


class LimitReached(DomainError):
    """A limit on how much one person may do (open requests, requests in a time window)."""
