"""品质抽查 in chat: the quality specialist records what a re-check found."""

from __future__ import annotations

from collections.abc import Callable

import time_machine

from scheduler import jobs
from storage.database import Database
from storage.estate import service as estates
from tests.conftest import SampleEstate, local
from tests.conversations.conftest import Chatter
from tests.scheduler.test_quality_checks import five_called_back


def test_the_specialist_records_a_recheck_in_chat(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    with estate.transaction() as session:
        cuihu = SampleEstate(session, estates.get_estate(session=session, code="cuihu"))
        five_called_back(cuihu, clock)
        jobs.quality_sample(session, local(2026, 11, 30, 9, 0))
    specialist = chat("马玲")
    specialist.say("品质抽查")
    specialist.press(specialist.buttons[0])
    assert "回访结果：满意" in specialist.text
    specialist.press("满意")
    assert "已记录抽查结果" in specialist.press("跳过")
