"""check_credentials against each provider's simulator: the right key passes, a wrong one is
refused with the provider's own sentence (naming the variable to fix), and nothing is ever
created."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from bot.registry import PLUGINS
from providers.base import NeedsAdmin, Provider
from providers.memory_state import MemoryState
from providers.simulators.aistudios import AIStudiosSimulator
from providers.simulators.cuttr import CuttrSimulator
from providers.simulators.heygen import HeyGenSimulator
from providers.simulators.viddyscribe import ViddyScribeSimulator
from providers.simulators.vizard import VizardSimulator
from tests.snip.provider import PLUGIN as SNIP_PLUGIN
from tests.snip.simulator import SnipSimulator


@dataclass(frozen=True)
class Case:
    plugin: str
    simulator: Callable[[], Any]
    # The provider's settings group, given its started simulator.
    settings: Callable[[Any], dict[str, Any]]
    wrong: dict[str, Any]
    # The variable the refusal sentence must name (what an admin fixes).
    variable: str
    # Creates the simulator saw (none may come from a check).
    creates: Callable[[Any], int]


def _keyed(sim: Any) -> dict[str, Any]:
    return {"api_key": sim.api_key, "base_url": sim.base_url}


CASES = [
    Case(
        "vizard", lambda: VizardSimulator("vz-good-key"), _keyed, {"api_key": "vz-wrong"},
        "VIZARD_API_KEY", lambda sim: sim.create_attempts,
    ),
    Case(
        "cuttr", lambda: CuttrSimulator("cuttr_good_key"), _keyed, {"api_key": "cuttr_wrong"},
        "CUTTR_API_KEY", lambda sim: sim.create_attempts,
    ),
    Case(
        "heygen", lambda: HeyGenSimulator("hg-good-key"), _keyed, {"api_key": "hg-wrong"},
        "HEYGEN_API_KEY", lambda sim: sim.create_attempts,
    ),
    Case(
        "heygen", lambda: HeyGenSimulator("hg-good-key"),
        lambda sim: _keyed(sim) | {"api_version": "v2"}, {"api_key": "hg-wrong"},
        "HEYGEN_API_KEY", lambda sim: sim.create_attempts,
    ),
    Case(
        "aistudios", lambda: AIStudiosSimulator("app-good", "uk-good"),
        lambda sim: {"app_id": sim.app_id, "user_key": sim.user_key, "base_url": sim.base_url},
        {"user_key": "uk-wrong"}, "AISTUDIOS_USER_KEY", lambda sim: len(sim.creates),
    ),
    Case(
        "viddyscribe", lambda: ViddyScribeSimulator("vsk_good"), _keyed,
        {"api_key": "vsk_wrong"}, "VIDDYSCRIBE_API_KEY", lambda sim: sim.generate_attempts,
    ),
    Case(
        "snip", lambda: SnipSimulator("snip-good"), _keyed, {"api_key": "snip-wrong"},
        "SNIP_API_KEY", lambda sim: len(sim.create_calls),
    ),
]  # fmt: skip
IDS = ["vizard", "cuttr", "heygen-v3", "heygen-v2", "aistudios", "viddyscribe", "snip"]


@pytest_asyncio.fixture(params=CASES, ids=IDS)
async def case(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Case, Any]]:
    chosen: Case = request.param
    simulator = chosen.simulator()
    await simulator.start()
    yield chosen, simulator
    await simulator.stop()


async def _provider(name: str, values: dict[str, Any]) -> Provider:
    plugin = next(p for p in (*PLUGINS, SNIP_PLUGIN) if p.name == name)
    group = plugin.settings(_env_file=None, **values)
    return plugin.create(group, MemoryState())


async def test_the_right_key_passes_and_creates_nothing(case: tuple[Case, Any]) -> None:
    chosen, simulator = case
    provider = await _provider(chosen.plugin, chosen.settings(simulator))
    try:
        await provider.check_credentials()
    finally:
        await provider.aclose()
    assert chosen.creates(simulator) == 0


async def test_a_wrong_key_is_refused_with_the_providers_sentence(case: tuple[Case, Any]) -> None:
    chosen, simulator = case
    provider = await _provider(chosen.plugin, chosen.settings(simulator) | chosen.wrong)
    try:
        with pytest.raises(NeedsAdmin) as refused:
            await provider.check_credentials()
    finally:
        await provider.aclose()
    assert chosen.variable in refused.value.message
    for wrong in chosen.wrong.values():
        assert wrong not in refused.value.message
    assert chosen.creates(simulator) == 0
