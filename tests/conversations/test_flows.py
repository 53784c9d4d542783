"""The flows as declared: every step a flow may go to is one of its steps, every step can be
reached, a step cannot go where it did not say, and the engine names no flow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import conversations.engine
from conversations.flows import FLOWS
from conversations.steps import AskText, Context, Flow, Next, UndeclaredStep, go, then
from storage.i18n import N_


@pytest.mark.parametrize("flow", FLOWS, ids=[flow.key for flow in FLOWS])
def test_every_declared_step_target_is_a_step_and_every_step_is_reached(flow: Flow) -> None:
    names = {step.name for step in flow.steps}
    assert flow.targets() <= names
    reached, waiting = set(), list(flow.start.targets)
    while waiting:
        name = waiting.pop()
        if name not in reached:
            reached.add(name)
            waiting += flow.step(name).then.targets
    assert reached == names, f"{flow.key}: {names - reached} can never be asked"


def test_a_flow_going_to_a_step_it_does_not_have_fails_when_it_is_declared() -> None:
    with pytest.raises(ValueError, match="goes to 'descripton'"):
        Flow(
            key="typo",
            title=N_("报修"),
            allowed=lambda ctx: True,
            start=go("descripton"),
            steps=[AskText("description", N_("请描述问题："), then()(lambda ctx, text: None))],
        )


def test_a_step_going_where_it_did_not_declare_is_stopped() -> None:
    @then("photos")
    def wanders(ctx: Context, text: str) -> Next:
        return "phtos"

    with pytest.raises(UndeclaredStep, match="'phtos'"):
        wanders(None, "渗水")  # type: ignore[arg-type]


def test_the_flows_keys_are_unique_and_one_flow_greets_strangers() -> None:
    keys = [flow.key for flow in FLOWS]
    assert len(set(keys)) == len(keys)
    assert [flow.key for flow in FLOWS if flow.greets_strangers] == ["bind"]


def test_the_engine_names_no_flow() -> None:
    source = Path(conversations.engine.__file__).read_text(encoding="utf-8")
    strings = {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert not strings & {flow.key for flow in FLOWS}
