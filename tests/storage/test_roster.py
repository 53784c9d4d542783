"""The company's owner roster (业主台账): a spreadsheet of 300 rows comes in with the reasons
for the rows it could not use, a second run changes nothing, a changed phone updates, and
the desk adds, changes and moves out residents with each change in the person's trail."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from storage.audit import service as audit
from storage.errors import InvalidInput
from storage.estate.models import Building, Unit, UnitState
from storage.identity import service as identity
from storage.outbox.models import OutboxMessage
from storage.people import roster
from storage.people.models import Person, Residency, ResidentRelation
from tests.conftest import SampleEstate

HEADER = ["楼栋", "单元", "房号", "姓名", "手机", "身份", "备用电话", "入住日期"]


def roster_rows(cuihu: SampleEstate) -> list[list[str]]:
    """300 rows for the sample estate's first 100 units, an owner, a family member and a
    tenant each, with 5 bad rows among them (one of each kind of mistake)."""
    units = cuihu.session.scalars(
        select(Unit).join(Building).where(Building.estate_id == cuihu.id).order_by(Unit.id)
    ).all()[:100]
    rows = []
    n = 0
    for unit in units:
        building, _, number = unit.designation.partition("-")
        entrance, _, room = number.partition("-")
        for relation in ("业主", "家属", "租户"):
            n += 1
            rows.append(
                [building, entrance, room, f"住户{n}", f"137{n:08d}", relation, "", "2020-05-01"]
            )
    rows[10][3] = ""  # no name
    rows[50][4] = "1370000"  # not a mobile number
    rows[90][2] = "9999"  # no such room
    rows[130][5] = "朋友"  # not 业主/家属/租户
    rows[170] = [*rows[169][:4], "13799999999", *rows[169][5:]]  # the row before, again
    return rows


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["翠湖花园业主台账"])  # a title row above the header, as companies write
    sheet.append(HEADER)
    for row in rows:
        # Excel keeps numbers as numbers: a room 1204 and a phone come back as 1204 and int.
        sheet.append([int(cell) if cell.isdigit() else cell for cell in row])
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def run(cuihu: SampleEstate, path: Path) -> roster.RosterResult:
    rows, problems = roster.parse(roster.read_file(path))
    result = roster.import_roster(
        session=cuihu.session, estate_id=cuihu.id, rows=rows, actor=None, by="测试"
    )
    result.problems = sorted(problems + result.problems, key=lambda p: p.line)
    return result


def residents(cuihu: SampleEstate) -> int:
    return cuihu.session.scalar(select(func.count(Residency.id))) or 0


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_roster_of_300_rows_with_5_bad_brings_in_295_residents_and_says_why_not(
    cuihu: SampleEstate, tmp_path: Path, kind: str
) -> None:
    rows = roster_rows(cuihu)
    path = (write_xlsx if kind == "xlsx" else write_csv)(tmp_path / f"台账.{kind}", rows)
    before = residents(cuihu)
    result = run(cuihu, path)
    assert (result.added, result.updated, len(result.problems)) == (295, 0, 5)
    assert residents(cuihu) == before + 295
    first = 3 if kind == "xlsx" else 2  # the file's row of the roster's first line
    reasons = {p.line - first: p.reason for p in result.problems}
    assert reasons == {
        10: "没有姓名",
        50: "手机号「1370000」不是有效的手机号码（11位，以1开头）",
        90: f"本小区没有房号 {rows[90][0]}-{rows[90][1]}-9999",
        130: "身份「朋友」应为 业主、家属 或 租户",
        170: f"与第 {169 + first} 行重复（{'-'.join(rows[169][:3])} {rows[169][3]}）",
    }
    tenant = cuihu.session.scalar(select(Person).where(Person.name == "住户3"))
    assert tenant is not None
    [residency] = tenant.residencies
    assert residency.relation is ResidentRelation.TENANT
    assert residency.moved_in_on == date(2020, 5, 1)

    again = run(cuihu, path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 295)
    assert residents(cuihu) == before + 295


def test_a_changed_phone_in_the_roster_updates_the_resident_and_their_trail(
    cuihu: SampleEstate, tmp_path: Path
) -> None:
    rows = roster_rows(cuihu)[:3]
    run(cuihu, write_csv(tmp_path / "first.csv", rows))
    rows[0][4] = "13912345678"
    result = run(cuihu, write_csv(tmp_path / "second.csv", rows))
    assert (result.added, result.updated, result.unchanged) == (0, 1, 2)
    owner = cuihu.person("住户1")
    assert owner.phone == "13912345678"
    [*_, changed] = audit.history(session=cuihu.session, object_type="person", object_id=owner.id)
    assert changed.to_state == "phone_changed"
    assert "手机 137****0001→139****5678" in (changed.note or "")


def test_a_csv_saved_by_excel_in_china_is_read(cuihu: SampleEstate, tmp_path: Path) -> None:
    """Excel on a Chinese Windows saves CSV as GB18030 (GBK), not UTF-8."""
    rows = roster_rows(cuihu)[:3]
    result = run(cuihu, write_csv(tmp_path / "gbk.csv", rows, encoding="gb18030"))
    assert result.added == 3
    assert cuihu.person("住户2").residencies[0].unit.designation == "1-1-101"


def test_a_combined_room_number_and_a_units_state_are_read(
    cuihu: SampleEstate, tmp_path: Path
) -> None:
    path = tmp_path / "combined.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["房号", "姓名", "手机号码", "身份", "房屋状态"])
        writer.writerow(["3栋1单元1203室", "钱多多", "137 0000 0001", "租客", "出租"])
        writer.writerow(["3-1-1202", "孙小美", "13700000002", "", "装修中"])
    result = run(cuihu, path)
    assert (result.added, result.problems) == (2, [])
    assert cuihu.person("钱多多").residencies[0].unit.designation == "3-1-1203"
    assert cuihu.unit("3-1-1202").state is UnitState.RENOVATING
    assert cuihu.person("孙小美").residencies[0].relation is ResidentRelation.OWNER


def test_a_phone_on_file_for_someone_else_is_refused_with_whose_it_is(
    cuihu: SampleEstate, tmp_path: Path
) -> None:
    path = tmp_path / "clash.csv"
    write_csv(path, [["3", "1", "1203", "冒名", "13800138001", "业主", "", ""]])
    result = run(cuihu, path)
    assert [p.reason for p in result.problems] == ["手机号 138****8001 已登记给 张伟"]


def test_the_desk_adds_a_tenant_changes_a_phone_and_records_a_move_out(
    cuihu: SampleEstate,
) -> None:
    s, desk = cuihu.session, cuihu.person("陈静")
    unit = cuihu.unit("3-1-1203")
    tenant = roster.add_resident(
        session=s,
        unit=unit,
        name="钱多多",
        phone="13700000001",
        relation=ResidentRelation.TENANT,
        actor=desk,
        by=desk.name,
    )
    with pytest.raises(InvalidInput, match="已登记了住户 钱多多"):
        roster.add_resident(
            session=s,
            unit=unit,
            name="钱多多",
            phone="13700000009",
            relation=ResidentRelation.TENANT,
            actor=desk,
            by=desk.name,
        )
    residency = roster.resident(session=s, unit=unit, name="钱多多")
    with pytest.raises(InvalidInput, match="已登记给 张伟"):
        roster.change_phone(session=s, residency=residency, phone="13800138001", actor=desk, by="")
    roster.change_phone(session=s, residency=residency, phone="13700000002", actor=desk, by="陈静")
    assert tenant.phone == "13700000002"
    roster.move_out(session=s, residency=residency, actor=desk, by="陈静")
    assert tenant.residencies == []
    trail = audit.history(session=s, object_type="person", object_id=tenant.id)
    assert [(e.to_state, e.actor_label) for e in trail] == [
        ("moved_in", "陈静"),
        ("phone_changed", "陈静"),
        ("moved_out", "陈静"),
    ]


def test_a_file_that_is_no_roster_is_refused_with_a_reason(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(InvalidInput, match=r"只能导入 \.xlsx 或 \.csv"):
        roster.read_file(notes)
    headless = write_csv(tmp_path / "x.csv", [])
    headless.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="没有找到表头"):
        roster.read_file(headless)


def test_a_whole_room_number_beside_a_building_column_is_not_doubled(
    cuihu: SampleEstate, tmp_path: Path
) -> None:
    path = tmp_path / "whole.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["楼栋", "房屋编号", "姓名", "手机"])
        writer.writerow(["3", "3-1-1203", "钱多多", "13700000001"])
    result = run(cuihu, path)
    assert (result.added, result.problems) == (1, [])
    assert cuihu.person("钱多多").residencies[0].unit.designation == "3-1-1203"


def test_a_strangers_refused_request_does_not_keep_the_phone_they_typed(
    cuihu: SampleEstate,
) -> None:
    """Anyone can type a resident's number into a request to be added: refused, it must not
    stop the desk from recording that number for the resident it belongs to."""
    s, desk = cuihu.session, cuihu.person("陈静")
    request = identity.request_to_join(
        session=s,
        estate_id=cuihu.id,
        designation="3-1-1203",
        name="冒名",
        relation=ResidentRelation.OWNER,
        phone="13712345678",
        platform="telegram",
        external_id="tg-impostor",
    )
    identity.decide_binding(session=s, request_id=request.id, actor=desk, approve=False)
    tenant = roster.add_resident(
        session=s,
        unit=cuihu.unit("3-1-1203"),
        name="钱多多",
        phone="13712345678",
        relation=ResidentRelation.TENANT,
        actor=desk,
        by="陈静",
    )
    assert tenant.phone == "13712345678"
    # The refusal went to the chat that asked: its account is bound to nobody.
    refused = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "binding_refused")).one()
    assert (refused.platform, refused.chat_id, refused.recipient_id) == (
        "telegram",
        "tg-impostor",
        None,
    )
