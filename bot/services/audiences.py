"""Who reads what an audience is told, looked up here so that views never read users."""

from __future__ import annotations

from bot.views.common import Reader
from storage.models import User
from storage.uow import UnitOfWork


async def centre(uow: UnitOfWork, coordinators_chat_id: int | None, admins: frozenset[int]) -> list[Reader]:
    """Where the centre reads: its group if configured, else every coordinator and admin privately
    (an admin who never wrote to the bot has no User row: read in the default language)."""
    if coordinators_chat_id is not None:
        return [Reader(coordinators_chat_id)]
    people: dict[int, User | None] = {u.telegram_id: u for u in await uow.users.coordinators()}
    for admin_id in sorted(admins - people.keys()):
        people[admin_id] = await uow.users.by_telegram_id(admin_id)
    return [Reader(chat_id, user) for chat_id, user in people.items()]
