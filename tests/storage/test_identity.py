"""Binding a chat identity: a one-time code from the desk, or unit number plus phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from storage.errors import InvalidInput, PermissionDenied
from storage.identity import service as identity
from storage.identity.models import InviteCode
from tests.conftest import SampleEstate


def test_an_invite_code_binds_once(cuihu: SampleEstate) -> None:
    s = cuihu.session
    code = identity.create_invite(session=s, person=cuihu.person("周师傅"), estate_id=cuihu.id)
    assert len(code) == 8
    assert s.scalar(select(InviteCode.code_hash)) != code  # only the hash is kept
    person = identity.redeem_invite(
        session=s, code=code.lower(), platform="telegram", external_id="1001"
    )
    assert person.name == "周师傅"
    assert identity.identify(session=s, platform="telegram", external_id="1001") == person
    with pytest.raises(InvalidInput, match="绑定码无效或已过期"):
        identity.redeem_invite(session=s, code=code, platform="wechat", external_id="o-1")


def test_an_expired_or_unknown_code_gets_the_same_answer(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    code = identity.create_invite(session=s, person=cuihu.person("张伟"), estate_id=cuihu.id)
    at.shift(timedelta(days=7, seconds=1))
    for attempt in (code, "ZZZZZZZZ"):
        with pytest.raises(InvalidInput, match="绑定码无效或已过期"):
            identity.redeem_invite(session=s, code=attempt, platform="telegram", external_id="1001")


def test_an_owner_binds_with_unit_and_phone_and_may_use_two_platforms(
    cuihu: SampleEstate,
) -> None:
    s = cuihu.session
    for platform, external_id in (("wechat", "oWx-1"), ("telegram", "42")):
        person = identity.bind_by_unit_and_phone(
            session=s,
            estate_id=cuihu.id,
            designation="1栋1单元502",
            phone="+86 138-0013-8001",
            platform=platform,
            external_id=external_id,
        )
        assert person is not None
        assert person.name == "张伟"
    assert identity.identify(
        session=s, platform="wechat", external_id="oWx-1"
    ) == identity.identify(session=s, platform="telegram", external_id="42")


@pytest.mark.parametrize(
    ("unit", "phone"), [("1-1-502", "13800138003"), ("9-9-999", "13800138001"), ("1-1-502", "")]
)
def test_a_wrong_unit_or_phone_binds_nobody_and_says_nothing_more(
    cuihu: SampleEstate, unit: str, phone: str
) -> None:
    with pytest.raises(InvalidInput, match="房号与预留手机号不符"):
        identity.bind_by_unit_and_phone(
            session=cuihu.session,
            estate_id=cuihu.id,
            designation=unit,
            phone=phone,
            platform="wechat",
            external_id="oWx-1",
        )
    assert identity.identify(session=cuihu.session, platform="wechat", external_id="oWx-1") is None


def test_a_chat_account_bound_to_one_person_cannot_be_taken_by_another(
    cuihu: SampleEstate,
) -> None:
    s = cuihu.session
    identity.bind_by_unit_and_phone(
        session=s,
        estate_id=cuihu.id,
        designation="1-1-502",
        phone="13800138001",
        platform="wechat",
        external_id="oWx-1",
    )
    with pytest.raises(PermissionDenied, match="已绑定了另一位用户"):
        identity.bind_by_unit_and_phone(
            session=s,
            estate_id=cuihu.id,
            designation="1-1-502",
            phone="13800138002",
            platform="wechat",
            external_id="oWx-1",
        )
