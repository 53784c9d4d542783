"""Binding a chat identity: a one-time code from the desk, or unit number plus phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from storage.errors import InvalidInput, PermissionDenied
from storage.identity import attempts
from storage.identity import service as identity
from storage.identity.models import FailedBinding, InviteCode
from tests.conftest import SampleEstate, local


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
    with pytest.raises(InvalidInput, match="房号或手机号与物业登记的不一致"):
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


def fail(
    cuihu: SampleEstate, times: int, *, account: str = "1001", unit: str | None = None
) -> None:
    for _ in range(times):
        attempts.note_failed_binding(
            session=cuihu.session,
            platform="telegram",
            external_id=account,
            unit_id=cuihu.unit(unit).id if unit else None,
        )


def bind_tenant(cuihu: SampleEstate, account: str = "1001") -> object:
    return identity.bind_by_unit_and_phone(
        session=cuihu.session,
        estate_id=cuihu.id,
        designation="3-1-801",
        phone="13800138004",
        platform="telegram",
        external_id=account,
    )


def test_a_paused_account_is_refused_even_the_right_answer_until_the_pause_ends(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    fail(cuihu, 4)
    assert (
        attempts.paused_until(session=cuihu.session, platform="telegram", external_id="1001")
        is None
    )
    paused = attempts.note_failed_binding(
        session=cuihu.session, platform="telegram", external_id="1001"
    )
    assert paused is not None
    assert paused.resumes_at == local(2026, 11, 23, 9, 15)
    code = identity.create_invite(
        session=cuihu.session, person=cuihu.person("赵敏"), estate_id=cuihu.id
    )
    with pytest.raises(attempts.BindingPaused, match="请在 2026-11-23 09:15 后再试"):
        bind_tenant(cuihu)
    with pytest.raises(attempts.BindingPaused):
        identity.redeem_invite(
            session=cuihu.session, code=code, platform="telegram", external_id="1001"
        )
    assert bind_tenant(cuihu, account="1002") is not None  # another account is not paused
    at.shift(timedelta(minutes=15))
    person = identity.redeem_invite(
        session=cuihu.session, code=code, platform="telegram", external_id="1001"
    )
    assert person.name == "赵敏"


def test_a_pause_is_shown_to_the_minute_rounded_up(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    at.move_to(local(2026, 11, 23, 9, 0) + timedelta(seconds=30))
    fail(cuihu, 5)
    with pytest.raises(attempts.BindingPaused, match="09:16 后再试"):
        bind_tenant(cuihu)


def test_failures_further_apart_than_the_pause_do_not_add_up(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    fail(cuihu, 4)
    at.shift(timedelta(minutes=15))
    fail(cuihu, 4)
    assert bind_tenant(cuihu) is not None


def test_wrong_phones_for_a_unit_from_many_accounts_pause_that_unit(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    for account in range(10):
        fail(cuihu, 1, account=f"guess-{account}", unit="3-1-801")
    with pytest.raises(attempts.BindingPaused):
        bind_tenant(cuihu)
    owner = identity.bind_by_unit_and_phone(
        session=cuihu.session,
        estate_id=cuihu.id,
        designation="1-1-502",
        phone="13800138001",
        platform="telegram",
        external_id="1001",
    )
    assert owner is not None  # the account itself may still bind another unit
    at.shift(timedelta(minutes=15))
    assert bind_tenant(cuihu, account="1002") is not None


def test_a_wrong_answer_names_the_unit_only_when_it_exists_and_stores_nothing_typed(
    cuihu: SampleEstate,
) -> None:
    for unit in ("3-1-801", "9-9-999"):
        with pytest.raises(attempts.WrongAnswer) as wrong:
            identity.bind_by_unit_and_phone(
                session=cuihu.session,
                estate_id=cuihu.id,
                designation=unit,
                phone="13900000000",
                platform="telegram",
                external_id="1001",
            )
        attempts.note_failed_binding(
            session=cuihu.session,
            platform="telegram",
            external_id="1001",
            unit_id=wrong.value.unit_id,
        )
    rows = cuihu.session.scalars(select(FailedBinding).order_by(FailedBinding.id)).all()
    assert [row.unit_id for row in rows] == [cuihu.unit("3-1-801").id, None]
    assert "13900000000" not in repr([vars(row) for row in rows])


def test_failures_older_than_a_day_are_forgotten(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    fail(cuihu, 2)
    at.shift(timedelta(hours=12))
    fail(cuihu, 1)
    later = local(2026, 11, 24, 9, 0) + timedelta(minutes=1)
    assert attempts.forget_failed_bindings(session=cuihu.session, now=later) == 2
    assert cuihu.session.scalar(select(func.count(FailedBinding.id))) == 1
