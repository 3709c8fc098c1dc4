"""sandbox: our own Telegram Bot API server with simulated people, for tests, benchmarks and demos.

A real, unmodified python-telegram-bot application talks to :class:`SandboxServer` over HTTP
through its ``base_url``; tests and benchmarks drive simulated people with :class:`SandboxClient`.
"""

from sandbox.client import (
    Batch,
    CallbackAnswer,
    ChatView,
    MessageView,
    SandboxClient,
    SimGroup,
    SimUser,
    Tap,
    gather_answers,
)
from sandbox.errors import ApiError, ControlError, SandboxError
from sandbox.faults import Fault
from sandbox.flood import FloodLimits
from sandbox.server import CallRecord, SandboxServer

__all__ = [
    "ApiError",
    "Batch",
    "CallRecord",
    "CallbackAnswer",
    "ChatView",
    "ControlError",
    "Fault",
    "FloodLimits",
    "MessageView",
    "SandboxClient",
    "SandboxError",
    "SandboxServer",
    "SimGroup",
    "SimUser",
    "Tap",
    "gather_answers",
]
