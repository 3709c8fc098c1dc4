"""Chats as a person sees them: current texts and buttons with edits applied, history kept."""

from __future__ import annotations

from typing import Any

from sandbox.world import Chat, StoredMessage, World


def button_view(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """Inline buttons as rows of ``{"text", "callback_data" | "url"}``."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [[{k: v for k, v in b.items() if k in ("text", "callback_data", "url")} for b in row]
            for row in markup["inline_keyboard"]]


def message_view(message: StoredMessage) -> dict[str, Any]:
    """One message as it stands now (``history`` holds its earlier versions, oldest first)."""
    return {
        "message_id": message.message_id,
        "chat_id": message.chat_id,
        "from_bot": message.from_bot,
        "sender_id": message.sender_id,
        "kind": message.kind,
        "text": message.text,
        "html": message.html,
        "buttons": button_view(message.reply_markup),
        "protect_content": message.protect_content,
        "date": message.date,
        "edit_date": message.edit_date,
        "deleted": message.deleted,
        "extra": message.extra,
        "history": [
            {"text": v.text, "html": v.html, "buttons": button_view(v.reply_markup), "edited_at": v.edited_at}
            for v in message.history
        ],
    }


def keyboard_view(chat: Chat) -> list[list[str]] | None:
    """The reply keyboard under the input field, as rows of labels (None when hidden)."""
    if not chat.reply_keyboard or "keyboard" not in chat.reply_keyboard:
        return None
    return [[b if isinstance(b, str) else b["text"] for b in row] for row in chat.reply_keyboard["keyboard"]]


def chat_view(world: World, chat: Chat) -> dict[str, Any]:
    return {
        "id": chat.id,
        "type": chat.type,
        "title": chat.title,
        "bot_status": chat.bot_status,
        "migrated_to": chat.migrated_to,
        "members": {str(uid): status for uid, status in chat.members.items()},
        "reply_keyboard": keyboard_view(chat),
        "pinned_message_id": chat.pinned_message_id,
        "last_seq": chat.events[-1].seq if chat.events else 0,
        "messages": [message_view(m) for m in sorted(chat.messages.values(), key=lambda m: m.message_id)],
    }


def events_after(chat: Chat, after: int) -> list[dict[str, Any]]:
    return [{"seq": e.seq, "kind": e.kind, "message": message_view(chat.messages[e.message_id])}
            for e in chat.events if e.seq > after]


def visible_commands(world: World, user_id: int, chat_id: int) -> list[dict[str, str]]:
    """The command menu ``user_id`` sees in ``chat_id``, resolved in Telegram's documented order."""
    chat = world.chat(chat_id)
    person = world.person(user_id)
    language = (person.language_code or "")[:2]
    if chat.type == "private":
        scopes = [f"chat:{chat.id}", "all_private_chats", "default"]
    else:
        is_admin = chat.members.get(user_id) in ("creator", "administrator")
        scopes = [f"chat_member:{chat.id}:{user_id}"]
        if is_admin:
            scopes.append(f"chat_administrators:{chat.id}")
        scopes.append(f"chat:{chat.id}")
        if is_admin:
            scopes.append("all_chat_administrators")
        scopes += ["all_group_chats", "default"]
    for scope in scopes:
        for lang in (language, ""):
            commands = world.commands.get((scope, lang))
            if commands:
                return commands
    return []
