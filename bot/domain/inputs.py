"""What a person sent, reduced to plain values by the Telegram layer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Input:
    """Free input in a private chat: typed text, a voice note, a photo (its caption is ``text``) or
    a shared contact."""

    text: str | None = None
    voice_file_id: str | None = None
    photo_file_id: str | None = None
    contact_phone: str | None = None
    contact_name: str | None = None
    contact_own: bool = False  # the contact is the sender's own (shared with the request-contact button)
