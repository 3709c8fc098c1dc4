"""Buildings and building leaders (楼长): a building's join link attributes the residents who start
the bot through it; its leader places requests for neighbours who have no Telegram, follows them
and records the neighbour's rating (the order's ``resident_id`` is the leader, ``on_behalf`` set).
"""

from __future__ import annotations

from bot.domain.attachments import QrCode
from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.links import BUILDING, is_code, start_link
from bot.i18n import N_
from bot.services import privately, request, roles
from bot.services.context import ServiceContext
from bot.views.lists import Listing
from storage.models import Building


async def building_by_code(ctx: ServiceContext, code: str) -> Building:
    building = await ctx.uow.buildings.by_code(code)
    if building is None:
        raise NotFound(N_("There is no building {building}."), building=code)
    return building


async def add(ctx: ServiceContext, code: str, community: str, name: str) -> None:
    ctx.require_coordinator()
    code = code.lower()
    if not is_code(code):
        raise InvalidInput(N_("A building code is 2–32 lowercase letters, digits or _ (e.g. dh_3)."))
    if await ctx.uow.buildings.by_code(code) is not None:
        raise Conflict(N_("Building {building} already exists."), building=code)
    community, name = community.strip()[:128], " ".join(name.split())[:128]
    if not community or not name:
        raise InvalidInput(N_("Usage: /building add CODE COMMUNITY NAME"))
    await ctx.uow.buildings.add(code, community, name)
    await ctx.tell(ctx.user, N_("Building {name} ({code}) in {community} added. Appoint its leader with "
                                  "/building leader {code} USER_ID."), name=name, code=code, community=community)
    await ctx.uow.commit()


async def appoint_leader(ctx: ServiceContext, code: str, telegram_id: int, appoint: bool) -> None:
    """A coordinator appoints (or stands down) a building's leader; menus of both follow."""
    ctx.require_coordinator()
    building = await building_by_code(ctx, code)
    person = await ctx.uow.users.by_telegram_id(telegram_id)
    if person is None:
        raise NotFound(N_("That person has not started the bot yet: ask them to open it first."))
    previous = await ctx.uow.users.get(building.leader_id) if building.leader_id is not None else None
    if appoint == (previous is not None and previous.id == person.id):
        raise Conflict(N_("{name} already leads building {building}.") if appoint
                       else N_("{name} does not lead building {building}."), name=person.first_name,
                       building=building.name)
    building.leader_id = person.id if appoint else None
    await ctx.uow.session.flush()
    for changed in {p.id: p for p in (previous, person) if p is not None}.values():
        await roles.refresh_menu(ctx, changed)
    if appoint:
        await ctx.tell(person, N_("You are now the leader of building {building}. Tap 🏠 Help a neighbour to ask "
                                  "for help for a neighbour, and 🏢 My building's QR code for its join link."),
                        building=building.name)
    await ctx.tell(ctx.user, N_("{name} now leads building {building}.") if appoint
                    else N_("{name} no longer leads building {building}."), name=person.first_name,
                    building=building.name)
    await ctx.uow.commit()


async def _led(ctx: ServiceContext, code: str | None) -> Building:
    """The building the actor may act for: the one named (a coordinator, or its leader) or their own."""
    if code is not None:
        building = await building_by_code(ctx, code)
        if ctx.is_coordinator or building.leader_id == ctx.user.id:
            return building
        raise NotAllowed(N_("Only a coordinator or the leader of building {building} can do this."),
                         building=building.name)
    led = await ctx.uow.buildings.led_by(ctx.user.id)
    if not led:
        raise NotAllowed(N_("Only a building leader can do this."))
    return led[0]


async def overview(ctx: ServiceContext, reply_chat_id: int | None = None, *, page: int = 0,
                   row: int | None = None) -> None:
    """``/building``: a coordinator's list of buildings (privately, a page at a time), or a leader's
    own building with its link."""
    if ctx.is_coordinator:
        where = await privately.list_target(ctx, reply_chat_id) if row is None \
            else Listing(ctx.user.telegram_id, page, row)
        if where is not None:
            await ctx.tell.lists.buildings(where, ctx.user, await ctx.uow.buildings.every())
        await ctx.uow.commit()
        return
    await send_link(ctx, None)


async def send_link(ctx: ServiceContext, code: str | None) -> None:
    building = await _led(ctx, code)
    if not ctx.bot_username:
        raise Conflict(N_("I do not know my own username yet; try again in a moment."))
    link = start_link(ctx.bot_username, BUILDING, building.code)
    await ctx.tell.send_file(ctx.user.telegram_id, ctx.user,
                              N_("Residents of {name} ({community}): scan the code or open {link}"),
                              QrCode(link, f"building-{building.code}.png"), link=link, name=building.name,
                              community=building.community)
    await ctx.uow.commit()


async def arrived_through(ctx: ServiceContext, code: str) -> None:
    """``/start b_<code>``: the person is attributed to the building and greeted."""
    building = await ctx.uow.buildings.by_code(code)
    if building is None:
        raise NotFound(N_("This link is not valid any more. Tap New request when you need help."))
    ctx.user.building_id = building.id
    await ctx.uow.measures.reach_person(ctx.user.id, building)  # a household reached (docs/measures.md)
    await ctx.uow.dialogs.clear(ctx.user.id)
    await ctx.tell(ctx.user, N_("Welcome, neighbour of {building} ({community})!"), building=building.name,
                    community=building.community)
    await ctx.tell.resident.welcome(ctx.user)
    await ctx.uow.commit()


async def begin_for_neighbour(ctx: ServiceContext, code: str | None) -> None:
    """``/neighbour``: a request placed by a building leader for a neighbour without Telegram."""
    building = await _led(ctx, code)
    if building.leader_id != ctx.user.id:
        raise NotAllowed(N_("Only the leader of building {building} can place requests for its neighbours."),
                         building=building.name)
    await request.begin(ctx, for_building=building)
