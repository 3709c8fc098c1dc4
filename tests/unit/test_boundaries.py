"""The import contracts in pyproject.toml hold, and they would catch a break: the same contracts,
checked by import-linter on the package's real import graph (built by grimp), and on that graph
with one forbidden import added (``import telegram`` in a service)."""

from __future__ import annotations

from copy import deepcopy
from functools import cache
from pathlib import Path

import grimp
import pytest
from importlinter.application.use_cases import read_user_options
from importlinter.application.user_options import UserOptions
from importlinter.configuration import configure
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract
from importlinter.domain.contract import Contract

from bot.adapters.app import reminder_config, request_limit_config, service_config
from bot.services.context import PointsConfig, ReminderConfig, RequestLimitConfig
from bot.settings import ReminderSettings, RequestLimits, Settings

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
CONTRACT_TYPES: dict[str, type[Contract]] = {
    "forbidden": ForbiddenContract, "layers": LayersContract, "acyclic_siblings": AcyclicSiblingsContract}
NO_TELEGRAM = "Services and views never reach Telegram, not even through another module"


@cache
def _options() -> UserOptions:
    configure()  # import-linter's own reader of [tool.importlinter]
    return read_user_options(config_filename=str(PYPROJECT))


@cache
def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*_options().session_options["root_packages"], include_external_packages=True,
                             cache_dir=None)


def _contracts() -> dict[str, Contract]:
    options = _options()
    return {o["name"]: CONTRACT_TYPES[o["type"]](o["name"], options.session_options, o)
            for o in options.contracts_options}


def _kept(contract: Contract, graph: grimp.ImportGraph) -> bool:
    return contract.check(graph, verbose=False).kept


@pytest.mark.parametrize("name", [
    "The domain is pure: no Telegram, no database",
    NO_TELEGRAM,
    "Services and views never import SQLAlchemy themselves (storage turns its errors into results)",
    "Storage never imports the bot",
])
def test_the_boundaries_hold(name: str) -> None:
    assert _kept(_contracts()[name], deepcopy(_graph()))


def test_an_import_of_telegram_in_a_service_breaks_the_contract() -> None:
    graph = deepcopy(_graph())
    graph.add_import(importer="bot.services.teams", imported="telegram", line_number=1,
                     line_contents="import telegram")
    assert not _kept(_contracts()[NO_TELEGRAM], graph)


def test_a_service_reaching_telegram_through_an_adapter_breaks_it_too() -> None:
    graph = deepcopy(_graph())
    graph.add_import(importer="bot.services.roster_chat", imported="bot.adapters.attachments", line_number=1,
                     line_contents="from bot.adapters import attachments")
    assert not _kept(_contracts()[NO_TELEGRAM], graph)


def test_services_read_the_settings_defaults_as_plain_values() -> None:
    """The frozen values services get (no pydantic models) default to what the settings do."""
    assert reminder_config(ReminderSettings()) == ReminderConfig()
    assert request_limit_config(RequestLimits()) == RequestLimitConfig()
    assert service_config(Settings()).points == PointsConfig()
