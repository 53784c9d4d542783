"""巡查 (001): fixed on the spot, or a department has a week; longer only with a manager;
every fix verified on site by a patroller."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from storage.audit import service as audit
from storage.errors import IllegalTransition, InvalidInput, PermissionDenied
from storage.outbox import service as outbox
from storage.patrol import service as patrols
from storage.patrol.models import FindingStatus, PatrolCategory, PatrolFinding
from tests.conftest import SampleEstate, local


def find_broken_light(cuihu: SampleEstate, **kwargs: object) -> PatrolFinding:
    options: dict[str, object] = {"department_id": cuihu.department("gc").id} | kwargs
    return patrols.report_finding(
        session=cuihu.session,
        actor=cuihu.person("陈静"),
        estate_id=cuihu.id,
        place="2栋地下车库B区",
        category=PatrolCategory.PUBLIC_FACILITY,
        description="照明灯3盏不亮",
        photos=["wechat:media-1"],
        **options,  # type: ignore[arg-type]
    )


def test_only_staff_report_findings(cuihu: SampleEstate) -> None:
    with pytest.raises(PermissionDenied, match="只有本项目员工"):
        patrols.report_finding(
            session=cuihu.session,
            actor=cuihu.person("张伟"),
            estate_id=cuihu.id,
            place="大门",
            category=PatrolCategory.OTHER,
            description="门卫不在岗",
            department_id=cuihu.department("zx").id,
        )


def test_a_finding_fixed_on_the_spot_is_recorded_fixed_and_verified_at_once(
    cuihu: SampleEstate,
) -> None:
    finding = patrols.report_finding(
        session=cuihu.session,
        actor=cuihu.person("冯军"),
        estate_id=cuihu.id,
        place="1栋消防通道",
        category=PatrolCategory.FIRE_VIOLATION,
        description="杂物堵塞通道",
        fixed_on_site=True,
    )
    assert finding.status is FindingStatus.VERIFIED
    assert finding.due_at is None
    trail = audit.history(session=cuihu.session, object_type="finding", object_id=finding.id)
    assert [e.to_state for e in trail] == ["open", "fixed", "verified"]
    assert {e.actor_label for e in trail} == {"冯军"}


def test_a_dispatched_finding_has_a_week_and_its_department_head_is_told(
    cuihu: SampleEstate,
) -> None:
    finding = find_broken_light(cuihu)
    assert finding.status is FindingStatus.OPEN
    assert finding.due_at == local(2026, 12, 1, 0, 0)  # through Monday the 30th
    [notice] = outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person("郑工").id)
    assert notice.kind == "finding_dispatched"
    assert "2026-11-30" in notice.text
    assert (
        patrols.overdue(session=cuihu.session, estate_id=cuihu.id, now=local(2026, 11, 30, 23, 59))
        == []
    )
    assert patrols.overdue(
        session=cuihu.session, estate_id=cuihu.id, now=local(2026, 12, 1, 0, 0)
    ) == [finding]


def test_a_finding_not_fixed_on_the_spot_needs_a_department(cuihu: SampleEstate) -> None:
    with pytest.raises(InvalidInput, match="责任部门"):
        find_broken_light(cuihu, department_id=None)


def test_a_deadline_longer_than_a_week_is_not_the_patrollers_to_give(cuihu: SampleEstate) -> None:
    with pytest.raises(InvalidInput, match="最长 7 天"):
        find_broken_light(cuihu, due_on=date(2026, 12, 1))
    shorter = find_broken_light(cuihu, due_on=date(2026, 11, 25))
    assert shorter.due_at == local(2026, 11, 26, 0, 0)


def test_an_extension_asked_by_a_non_manager_is_refused(cuihu: SampleEstate) -> None:
    finding = find_broken_light(cuihu)
    for who in ("周师傅", "陈静"):
        with pytest.raises(PermissionDenied, match="仅经理、主管"):
            patrols.extend(
                session=cuihu.session,
                finding_id=finding.id,
                actor=cuihu.person(who),
                new_due_on=date(2026, 12, 10),
                reason="等配件",
            )
    assert finding.due_at == local(2026, 12, 1, 0, 0)
    assert finding.extended_by_id is None


def test_a_manager_extends_and_the_record_keeps_who_and_the_new_deadline(
    cuihu: SampleEstate,
) -> None:
    finding = find_broken_light(cuihu)
    patrols.extend(
        session=cuihu.session,
        finding_id=finding.id,
        actor=cuihu.person("郑工"),
        new_due_on=date(2026, 12, 10),
        reason="灯具需厂家供货",
    )
    assert finding.due_at == local(2026, 12, 11, 0, 0)
    assert finding.original_due_at == local(2026, 12, 1, 0, 0)
    assert finding.extended_by is not None
    assert finding.extended_by.person.name == "郑工"
    trail = audit.history(session=cuihu.session, object_type="finding", object_id=finding.id)
    assert trail[-1].note == "延期 2026-11-30 → 2026-12-10：灯具需厂家供货"
    assert (
        patrols.overdue(session=cuihu.session, estate_id=cuihu.id, now=local(2026, 12, 5, 0, 0))
        == []
    )
    with pytest.raises(InvalidInput, match="晚于当前期限"):
        patrols.extend(
            session=cuihu.session,
            finding_id=finding.id,
            actor=cuihu.person("黄经理"),
            new_due_on=date(2026, 12, 2),
            reason="改短",
        )


def test_a_fix_is_verified_on_site_by_another_patroller(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    finding = find_broken_light(cuihu)
    with pytest.raises(PermissionDenied, match="不是您部门"):
        patrols.fix(session=s, finding_id=finding.id, actor=cuihu.person("许阿姨"), note="换了")
    at.move_to(local(2026, 11, 24, 14, 0))
    patrols.fix(
        session=s,
        finding_id=finding.id,
        actor=cuihu.person("周师傅"),
        note="更换灯管3支",
        photos=["wechat:media-2"],
    )
    assert finding.status is FindingStatus.FIXED
    with pytest.raises(PermissionDenied):
        patrols.verify(session=s, finding_id=finding.id, actor=cuihu.person("周师傅"), passed=True)
    at.move_to(local(2026, 11, 24, 16, 0))
    patrols.verify(session=s, finding_id=finding.id, actor=cuihu.person("陈静"), passed=True)
    assert finding.status is FindingStatus.VERIFIED
    assert finding.verified_by is not None
    assert finding.verified_by.person.name == "陈静"
    assert finding.verified_at == local(2026, 11, 24, 16, 0)
    with pytest.raises(IllegalTransition):
        patrols.verify(session=s, finding_id=finding.id, actor=cuihu.person("孙丽"), passed=True)


def test_a_failed_verification_reopens_the_finding_and_tells_the_fixer(
    cuihu: SampleEstate,
) -> None:
    s = cuihu.session
    finding = find_broken_light(cuihu)
    patrols.fix(session=s, finding_id=finding.id, actor=cuihu.person("周师傅"), note="换了")
    with pytest.raises(InvalidInput, match="写明问题"):
        patrols.verify(session=s, finding_id=finding.id, actor=cuihu.person("陈静"), passed=False)
    patrols.verify(
        session=s,
        finding_id=finding.id,
        actor=cuihu.person("陈静"),
        passed=False,
        note="仍有1盏不亮",
    )
    assert finding.status is FindingStatus.OPEN
    assert finding.verification_passed is False
    kinds = [
        m.kind for m in outbox.for_recipient(session=s, recipient_id=cuihu.person("周师傅").id)
    ]
    assert kinds == ["finding_rejected"]
