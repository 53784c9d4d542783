"""巡查 (001): fixed on the spot, or a department has a week; longer only with a manager;
every fix verified on site by a patroller."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from storage.audit import service as audit
from storage.database import settings_of
from storage.errors import IllegalTransition, InvalidInput, PermissionDenied
from storage.outbox import service as outbox
from storage.patrol import rounds, work_orders
from storage.patrol import service as patrols
from storage.patrol.models import FindingStatus, PatrolCategory, PatrolFinding
from storage.ticket import lifecycle, repairs
from storage.ticket.models import RepairCategory, TicketStatus
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


def test_an_extension_is_decided_only_by_the_findings_department_head_or_the_pm(
    cuihu: SampleEstate,
) -> None:
    """001 方案 六.1: 郑工 heads engineering; 保洁部's finding is 高主管's or 黄经理's."""
    finding = patrols.report_finding(
        session=cuihu.session,
        actor=cuihu.person("陈静"),
        estate_id=cuihu.id,
        place="1栋2单元楼梯间",
        category=PatrolCategory.CLEANLINESS,
        description="楼梯间有垃圾",
        department_id=cuihu.department("bj").id,
    )
    request = patrols.request_extension(
        session=cuihu.session,
        finding_id=finding.id,
        actor=cuihu.person("许阿姨"),
        new_due_on=date(2026, 12, 10),
        reason="等清洁剂到货",
    )
    assert {p.name for p in patrols.approvers(session=cuihu.session, finding=finding)} == {
        "高主管",
        "黄经理",
    }
    for who in ("周师傅", "陈静", "郑工"):
        with pytest.raises(PermissionDenied):
            patrols.decide_extension(
                session=cuihu.session, request_id=request.id, actor=cuihu.person(who), approve=True
            )
    assert finding.due_at == local(2026, 12, 1, 0, 0)
    assert finding.extended_by_id is None
    patrols.decide_extension(
        session=cuihu.session, request_id=request.id, actor=cuihu.person("高主管"), approve=True
    )
    assert finding.due_at == local(2026, 12, 11, 0, 0)


def test_an_extension_moves_the_deadline_at_most_the_cap_beyond_the_first(
    cuihu: SampleEstate,
) -> None:
    finding = find_broken_light(cuihu)  # first deadline 2026-11-30
    with pytest.raises(InvalidInput, match="延期最多到 2026-12-30"):
        patrols.request_extension(
            session=cuihu.session,
            finding_id=finding.id,
            actor=cuihu.person("周师傅"),
            new_due_on=date(2027, 1, 1),
            reason="等配件",
        )
    # A week from today is not later than the deadline; two weeks, a month and the cap are.
    assert patrols.extension_choices(finding, date(2026, 11, 23), settings_of(cuihu.session)) == [
        date(2026, 12, 7),
        date(2026, 12, 23),
        date(2026, 12, 30),
    ]


def test_a_manager_extends_and_the_record_keeps_who_and_the_new_deadline(
    cuihu: SampleEstate,
) -> None:
    finding = find_broken_light(cuihu)
    cuihu.extend(
        finding,
        asked_by="周师傅",
        approved_by="郑工",
        to=date(2026, 12, 10),
        reason="灯具需厂家供货",
    )
    assert finding.due_at == local(2026, 12, 11, 0, 0)
    assert finding.original_due_at == local(2026, 12, 1, 0, 0)
    assert finding.extended_by is not None
    assert finding.extended_by.person.name == "郑工"
    trail = audit.history(session=cuihu.session, object_type="finding", object_id=finding.id)
    assert trail[-1].note == "延期 2026-11-30 → 2026-12-10（郑工 批准）：灯具需厂家供货"
    assert (
        patrols.overdue(session=cuihu.session, estate_id=cuihu.id, now=local(2026, 12, 5, 0, 0))
        == []
    )
    with pytest.raises(InvalidInput, match="晚于当前期限"):
        patrols.request_extension(
            session=cuihu.session,
            finding_id=finding.id,
            actor=cuihu.person("周师傅"),
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
    # Engineering heard of the finding, and hears that it is theirs again.
    assert kinds == ["finding_dispatched", "finding_rejected"]


def _kinds_to(cuihu: SampleEstate, name: str) -> list[str]:
    return [
        m.kind
        for m in outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person(name).id)
    ]


def test_a_gas_smell_on_patrol_pages_the_head_who_is_on_duty_and_the_pm_at_night(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    """001 4.4.5: found at 23:00, it does not wait for the morning or the digest."""
    at.move_to(local(2026, 11, 24, 23, 0))
    finding = patrols.report_finding(
        session=cuihu.session,
        actor=cuihu.person("冯军"),
        estate_id=cuihu.id,
        place="3栋1单元楼梯间",
        category=PatrolCategory.SECURITY_HAZARD,
        description="楼梯间有浓烈燃气味",
        department_id=cuihu.department("gc").id,
    )
    assert finding.urgent  # by what was written, without being marked
    for name in ("郑工", "吴师傅", "黄经理"):  # the head, the night technician, the PM
        assert "finding_urgent" in _kinds_to(cuihu, name), name
    assert "finding_urgent" not in _kinds_to(cuihu, "周师傅")  # off duty


def test_a_finding_handed_back_goes_to_the_desk_which_sends_it_elsewhere(
    cuihu: SampleEstate,
) -> None:
    s = cuihu.session
    finding = find_broken_light(cuihu, department_id=cuihu.department("lh").id)
    with pytest.raises(PermissionDenied):  # only the department that holds it
        patrols.hand_back(
            session=s, finding_id=finding.id, actor=cuihu.person("许阿姨"), reason="x"
        )
    patrols.hand_back(
        session=s, finding_id=finding.id, actor=cuihu.person("林师傅"), reason="是照明，应归工程部"
    )
    assert finding.status is FindingStatus.RETURNED
    assert "finding_returned" in _kinds_to(cuihu, "陈静")
    assert patrols.held_by(session=s, staff=cuihu.staff("陈静")) == [finding]
    assert patrols.held_by(session=s, staff=cuihu.staff("林师傅")) == []
    with pytest.raises(InvalidInput, match="刚退回"):
        patrols.redirect(
            session=s,
            finding_id=finding.id,
            actor=cuihu.person("陈静"),
            department_id=cuihu.department("lh").id,
        )
    patrols.redirect(
        session=s,
        finding_id=finding.id,
        actor=cuihu.person("陈静"),
        department_id=cuihu.department("gc").id,
    )
    assert finding.status is FindingStatus.OPEN
    assert finding.department is not None
    assert finding.department.code == "gc"
    assert "finding_dispatched" in _kinds_to(cuihu, "周师傅")


def test_a_work_order_that_fails_verification_goes_back_to_the_technician_as_rework(
    cuihu: SampleEstate,
) -> None:
    s = cuihu.session
    finding = find_broken_light(cuihu)
    order = work_orders.to_work_order(
        session=s,
        finding_id=finding.id,
        actor=cuihu.person("陈静"),
        category=RepairCategory.ELECTRICAL,
    )
    cuihu.dispatch(order, to="周师傅")
    lifecycle.accept(session=s, ticket_id=order.id, actor=cuihu.person("周师傅"))
    repairs.finish_repair(
        session=s, ticket_id=order.id, actor=cuihu.person("周师傅"), note="换灯管"
    )
    assert finding.status is FindingStatus.FIXED
    work_orders.verify(
        session=s,
        finding_id=finding.id,
        actor=cuihu.person("陈静"),
        passed=False,
        note="仍有1盏不亮",
    )
    assert finding.status is FindingStatus.OPEN
    rework = work_orders.work_order(session=s, finding=finding)
    assert rework is not None
    assert rework.rework_of_id == order.id
    assert rework.assignee is not None
    assert rework.assignee.person.name == "周师傅"
    lifecycle.accept(session=s, ticket_id=rework.id, actor=cuihu.person("周师傅"))
    repairs.finish_repair(session=s, ticket_id=rework.id, actor=cuihu.person("周师傅"), note="再换")
    work_orders.verify(session=s, finding_id=finding.id, actor=cuihu.person("陈静"), passed=True)
    assert finding.status is FindingStatus.VERIFIED
    assert {order.status, rework.status} == {TicketStatus.CLOSED}


def test_the_managers_recheck_sends_a_verified_finding_back_with_a_new_week(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    finding = find_broken_light(cuihu)
    patrols.fix(session=s, finding_id=finding.id, actor=cuihu.person("周师傅"), note="换了")
    patrols.verify(session=s, finding_id=finding.id, actor=cuihu.person("陈静"), passed=True)
    at.move_to(local(2026, 11, 30, 10, 0))  # the Monday after
    assert rounds.last_week_findings(session=s, estate_id=cuihu.id, today=date(2026, 11, 30)) == [
        finding
    ]
    patrols.reopen(session=s, finding_id=finding.id, actor=cuihu.person("黄经理"), note="又坏了")
    assert finding.status is FindingStatus.OPEN
    assert finding.due_at == local(2026, 12, 8, 0, 0)
    assert _kinds_to(cuihu, "郑工")[-1] == "finding_rejected"
