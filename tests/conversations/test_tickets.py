"""我的工单: an owner's tickets and their history."""

from __future__ import annotations

from collections.abc import Callable

from tests.conversations.conftest import Chatter


def test_my_tickets_shows_the_households_tickets_and_their_history(
    chat: Callable[..., Chatter],
) -> None:
    owner = chat("张伟")
    owner.say("报修")
    owner.press("电梯")
    owner.press("1-1-502")
    owner.say("电梯异响")
    owner.press("跳过")
    owner.press("跳过")
    owner.press("确认提交")
    family = chat("王芳")
    listing = family.say("我的工单")
    assert "BX000001 1-1-502 电梯 · 待处理" in listing
    detail = family.press("BX000001")
    assert "电梯异响" in detail
    assert "待处理" in detail
    assert "您还没有工单" in chat("李强").say("我的工单")
