"""今日汇总 and 逾期事项: what the desk and the managers read."""

from __future__ import annotations

from collections.abc import Callable

import time_machine

from tests.conftest import local
from tests.conversations.conftest import Chatter, report_leak


def test_managers_read_todays_summary_and_whats_overdue(
    chat: Callable[..., Chatter], clock: time_machine.Traveller
) -> None:
    report_leak(chat)
    manager = chat("黄经理")
    summary = manager.say("今日汇总")
    assert "2026-11-23 汇总" in summary
    assert "新工单 1" in summary
    assert "没有逾期事项" in manager.say("逾期事项")
    owner = chat("李强")
    owner.say("投诉")
    owner.say("噪音")
    owner.say("半夜施工")
    owner.press("跳过")
    owner.press("由客服中心处理")
    owner.press("2-2-301")  # 李强 has two units: the flow asks which one
    owner.press("确认提交")
    clock.move_to(local(2026, 11, 24, 12, 0))
    assert "超 24 小时未受理的投诉 1" in manager.say("逾期事项")
    assert "今日汇总" not in chat("张伟").buttons
