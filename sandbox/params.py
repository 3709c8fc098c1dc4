"""Typed access to Bot API call parameters, whichever way the client encoded them.

Telegram accepts the query string, ``application/x-www-form-urlencoded``, ``multipart/form-data``
and JSON. Form encodings carry objects (``reply_markup``, ``commands``, ``scope``…) as JSON text,
which python-telegram-bot relies on; all of them end up here as one mapping.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import bad_request


@dataclass
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


@dataclass
class Params:
    """The parameters of one call, plus uploaded file parts by their field name. (Its methods are
    named after the types they return, so annotations after them spell the builtins out.)"""

    values: dict[str, Any]
    uploads: dict[str, Upload] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.values and self.values[name] not in (None, "")

    def str(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def int(self, name: builtins.str, *, required: builtins.bool = False,
            default: builtins.int | None = None) -> builtins.int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def float(self, name: builtins.str, *, required: builtins.bool = False) -> builtins.float | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def bool(self, name: builtins.str, default: builtins.bool = False) -> builtins.bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1")

    def json(self, name: builtins.str) -> Any:
        """An object parameter: already decoded (JSON body) or JSON text (form body)."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def chat_id(self, name: builtins.str = "chat_id", *,
                required: builtins.bool = True) -> builtins.int | builtins.str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request("chat_id is empty")
            return None
        if isinstance(value, int):
            return value
        text = str(value)
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def loggable(self) -> dict[builtins.str, Any]:
        """The parameters as recorded: uploads appear by name and size, never as bytes."""
        out = dict(self.values)
        for name, upload in self.uploads.items():
            out[name] = {"upload": upload.filename, "size": len(upload.data)}
        return out
