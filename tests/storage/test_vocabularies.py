"""The database takes every word of every vocabulary the code has: a repair category, a
staff role or a platform added in code is stored, on both databases, without a migration;
a closed vocabulary (a state machine's states) that grows fails here until a migration
widens its CHECK."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import date

import sqlalchemy as sa
from sqlalchemy import Column, Table, select
from sqlalchemy.exc import DBAPIError

from storage.announcement import service as announcements
from storage.announcement.models import AnnouncementKind
from storage.base import Base
from storage.callback.models import Callback, QualityCheck, QualityCheckKind
from storage.identity.models import BindingRequest, BindingStatus, ChatIdentity
from storage.outbox import service as outbox
from storage.patrol import service as patrols
from storage.patrol.models import PatrolCategory, PatrolRound, RoundStatus, RoundVisit
from storage.survey.models import Survey, SurveyStatus
from storage.ticket import complaints, lifecycle, messages, repairs
from storage.ticket.models import RepairCategory
from tests.conftest import SampleEstate, answer_notice, local


def vocabularies() -> Iterator[tuple[Table, Column[object], type[enum.Enum]]]:
    """Every column of the schema that stores an enum's value."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, sa.Enum) and column.type.enum_class is not None:
                yield table, column, column.type.enum_class


def a_row_of_every_table(cuihu: SampleEstate) -> None:
    """A repair done (with a photo and its callback, drawn for a quality check), a complaint,
    a message, a finding with an extension asked for, a bound account, a binding request,
    notices."""
    s, owner = cuihu.session, cuihu.person("张伟")
    repair = repairs.report_repair(
        session=s,
        actor=owner,
        unit_id=cuihu.unit("1-1-502").id,
        category=RepairCategory.WATER_LEAK,
        description="天花板渗水",
        photos=["telegram:photo-1"],
        voice_notes=["telegram:voice-1"],
    )
    cuihu.dispatch(repair, to="周师傅")
    lifecycle.accept(session=s, ticket_id=repair.id, actor=cuihu.person("周师傅"))
    repairs.finish_repair(session=s, ticket_id=repair.id, actor=cuihu.person("周师傅"), note="好了")
    cuihu.called_back(repair)
    [callback] = s.scalars(select(Callback)).all()
    s.add(QualityCheck(callback=callback, kind=QualityCheckKind.WEEKLY, period="2026-W48"))
    complaints.file_complaint(
        session=s,
        actor=owner,
        unit_id=cuihu.unit("1-1-502").id,
        subject="噪音",
        description="夜间施工",
    )
    finding = patrols.report_finding(
        session=s,
        actor=cuihu.person("陈静"),
        estate_id=cuihu.id,
        place="2栋大堂",
        category=PatrolCategory.PUBLIC_FACILITY,
        description="灯不亮",
        department_id=cuihu.department("gc").id,
    )
    patrols.request_extension(
        session=s,
        finding_id=finding.id,
        actor=cuihu.person("郑工"),
        new_due_on=date(2026, 12, 20),
        reason="等配件",
    )
    tour = s.scalars(select(PatrolRound).where(PatrolRound.code == "XJ")).one()
    s.add(RoundVisit(round=tour, day=date(2026, 11, 23), status=RoundStatus.MISSED))
    messages.leave_message(
        session=s,
        actor=owner,
        text="物业费可以用微信交吗",
        estate_id=cuihu.id,
        unit_id=cuihu.unit("1-1-502").id,
    )
    s.add(ChatIdentity(platform="telegram", external_id="1", person=owner))
    s.add(
        BindingRequest(
            platform="wechat",
            external_id="o-1",
            person=owner,
            estate_id=cuihu.id,
            unit_designation="1-1-502",
            status=BindingStatus.PENDING,
        )
    )
    outbox.notify(session=s, recipient=owner, notice=answer_notice())
    announcements.create(
        session=s,
        estate_id=cuihu.id,
        kind=AnnouncementKind.WATER_OUTAGE,
        title="停水",
        text="管网维修",
        audience=announcements.Audience(buildings=("1",)),
        actor=None,
        by="测试",
        ends_at=local(2026, 11, 24, 18, 0),
    )
    s.add(
        Survey(
            estate_id=cuihu.id,
            period="2026Q4",
            items=[{"key": "q1", "label": "服务态度"}],
            status=SurveyStatus.OPEN,
            occupied=120,
            closes_at=local(2026, 12, 8, 9, 0),
            started_by="测试",
        )
    )
    s.flush()


def test_every_member_of_every_vocabulary_is_accepted_by_the_live_schema(
    cuihu: SampleEstate,
) -> None:
    s = cuihu.session
    a_row_of_every_table(cuihu)
    refused = []
    columns = list(vocabularies())
    assert {t.name for t, _, _ in columns} >= {"ticket", "staff_member", "patrol_finding"}
    for table, column, vocabulary in columns:
        rows = s.scalars(select(table.c.id)).all()
        assert rows, f"no {table.name} row to try {column.name} on"
        for member in vocabulary:
            # Some row must take it: a repair's row takes no severity, a complaint's does.
            if not any(_takes(s, table, column, row, member) for row in rows):
                refused.append(f"{table.name}.{column.name} = {member.value}")
    assert not refused, f"the database refuses words the code has: {refused}"


def _takes(
    session: sa.orm.Session, table: Table, column: Column[object], row: object, member: enum.Enum
) -> bool:
    try:
        with session.begin_nested():
            session.execute(sa.update(table).where(table.c.id == row).values({column.name: member}))
    except DBAPIError:
        return False
    return True


def test_a_platform_or_category_is_a_plain_word_to_the_database(cuihu: SampleEstate) -> None:
    s = cuihu.session
    owner = cuihu.person("张伟")
    s.add(ChatIdentity(platform="dingtalk", external_id="ding-1", person=owner))
    s.flush()
    assert s.scalar(select(ChatIdentity.person_id).where(ChatIdentity.platform == "dingtalk"))
    extensible = {
        (table.name, column.name)
        for table, column, _ in vocabularies()
        if isinstance(column.type, sa.Enum) and not column.type.create_constraint
    }
    assert {("ticket", "category"), ("staff_member", "role"), ("department", "kind")} <= extensible
    assert ("ticket", "status") not in extensible
