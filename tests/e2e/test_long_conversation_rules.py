"""A long conversation with the real action server runs the same actions and says the same
things whether RulePolicy predicts from the last states its rules look at
(bot/patches/rule_policy_state_window.py) or from the whole conversation, as rasa does."""
from __future__ import annotations

import asyncio
from typing import Any, Callable, List

import pytest
import yaml

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e

MODEL = PROJECT_ROOT / "models" / "model.tar.gz"


def bench_messages() -> List[str]:
    """Every scripted message of the benchmark, as one conversation: descriptions, screening,
    advice, topics, bookings, emergencies, hand-overs, fallbacks."""
    scripts = yaml.safe_load((PROJECT_ROOT / "bench" / "conversations.yml").read_text())["conversations"]
    return [message for script in scripts for message in script] + [
        "book a session", "I have crushing chest pain and my left arm is numb", "ok", "zxqv blorp", "hello"]


@pytest.fixture(scope="module")
def agent(assistant: Any) -> Any:
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from bot import patches

    patches.apply()
    return Agent.load(str(MODEL), action_endpoint=EndpointConfig(url=f"{assistant.actions_url}/webhook"))


def played(agent: Any, sender: str, messages: List[str]) -> List[Any]:
    """Each action run (name, policy, confidence) and each reply of the conversation, in order."""
    from rasa.shared.core.events import ActionExecuted, BotUttered

    async def conversation() -> List[Any]:
        for message in messages:
            await agent.handle_text(message, sender_id=sender)
        tracker = await agent.tracker_store.retrieve(sender)
        return [(e.action_name, e.policy, e.confidence) if isinstance(e, ActionExecuted) else e.text
                for e in tracker.events if isinstance(e, (ActionExecuted, BotUttered))]

    return asyncio.run(conversation())


def with_states(monkeypatch: pytest.MonkeyPatch, states: Callable[..., Any]) -> None:
    from rasa.core.policies.rule_policy import RulePolicy

    monkeypatch.setattr(RulePolicy, "_prediction_states", states)


def test_the_window_runs_the_actions_rasa_runs(agent: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.patches import rule_policy_state_window

    messages = bench_messages()
    with_states(monkeypatch, rule_policy_state_window.prediction_states)
    windowed = played(agent, "rules-windowed", messages)
    with_states(monkeypatch, rule_policy_state_window.UPSTREAM)
    rasas = played(agent, "rules-whole", messages)
    assert windowed == rasas
    actions = {step[0] for step in rasas if isinstance(step, tuple)}
    assert {"action_advise", "booking_form", "action_deactivate_loop", "action_booking_submit", "action_emergency",
            "action_handoff"} <= actions and len(messages) > 200

