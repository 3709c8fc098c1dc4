"""Telegram chat ids, as plain numbers."""

from __future__ import annotations


def is_group(chat_id: int) -> bool:
    """Group and supergroup ids are negative; people's private chats have their (positive) user id."""
    return chat_id < 0
