"""Examples the property test found in the lifecycle before it had one home (issue 10), kept as
regression tests: both were inconsistent then and must stay consistent now.

- The "no response" close (a week without a rating) moved a done order to closed without the
  schedule's follow-up and the card edit every other move makes: the team's card still said
  "done by …" about a closed order.
- A member of a team the escalation ladder offered the order to took it and gave it back: the first
  team's card showed Accept again, but its members were told "This card is out of date".
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.service.lifecycle.invariants import State
from tests.service.lifecycle.test_properties import WEEK, play
from tests.service.lifecycle.world import Act, Command, Place, Wait, World

NOBODY_RATES: list[Command] = [Place("rita"), Act("dispatch", "coco", 0, "alpha"), Act("accept", "alma", 0, "alpha"),
                               Act("done", "alma"), Wait(WEEK)]
# The ladder offers the order to bravo after 90 minutes; ben (bravo) takes it and gives it back;
# alma (alpha, where it was dispatched) takes it from alpha's card.
HANDED_BACK: list[Command] = [Place("rita"), Act("dispatch", "coco", 0, "alpha"), Wait(91),
                              Act("accept", "ben", 0, "bravo"), Act("release", "ben"),
                              Act("accept", "alma", 0, "alpha"), Act("done", "alma")]


async def test_a_no_response_close_edits_the_card_as_every_move_does(engine: AsyncEngine) -> None:
    await play(World(engine), NOBODY_RATES)


async def test_the_first_team_takes_back_an_order_an_offered_team_gave_back(engine: AsyncEngine) -> None:
    world = World(engine)
    await play(world, HANDED_BACK)
    (order,) = (await State.load(world)).orders
    takers = [e.actor_id for e in (await State.load(world)).events if e.event == "accepted"]
    assert order.status == "done" and len(takers) == 2 and order.volunteer_id == takers[-1] != takers[0]
