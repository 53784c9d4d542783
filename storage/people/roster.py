"""The company's owner roster (业主台账): read from its spreadsheet, kept current by the desk
(a new owner or tenant, a changed phone: 信息变更, 003 篇十二 六; a move-out), every change in
the person's trail with who made it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import service as audit
from storage.errors import DomainError, InvalidInput, NotFound
from storage.estate import service as estates
from storage.estate.models import UNIT_STATE_LABELS, Building, Unit, UnitState
from storage.people.models import (
    RELATION_LABELS,
    Person,
    Residency,
    ResidentRelation,
    StaffMember,
)
from storage.people.service import normalize_phone

# The trail's words for a resident's changes (on the person's own trail).
MOVED_IN, MOVED_OUT, PHONE_CHANGED, DETAILS_CHANGED = (
    "moved_in",
    "moved_out",
    "phone_changed",
    "details_changed",
)
_MOBILE = re.compile(r"^1\d{10}$")

# The usual column names of a 业主台账, each field's first match in the header row.
COLUMNS: dict[str, tuple[str, ...]] = {
    "building": ("楼栋", "楼号", "楼栋号", "栋号", "楼宇"),
    "entrance": ("单元", "单元号"),
    "room": ("房号", "房间号", "室号", "门牌号", "房屋编号", "房屋"),
    "name": ("姓名", "业主姓名", "住户姓名", "客户姓名"),
    "phone": ("手机", "手机号", "手机号码", "联系电话", "电话"),
    "relation": ("身份", "住户身份", "关系", "与业主关系", "住户类型"),
    "alt_phone": ("备用电话", "其他电话", "紧急联系电话", "备用手机"),
    "moved_in_on": ("入住日期", "入住时间", "交房日期"),
    "unit_state": ("房屋状态", "入住状态"),
}
RELATION_WORDS: dict[str, ResidentRelation] = {
    "业主": ResidentRelation.OWNER,
    "产权人": ResidentRelation.OWNER,
    "家属": ResidentRelation.FAMILY,
    "家庭成员": ResidentRelation.FAMILY,
    "租户": ResidentRelation.TENANT,
    "租客": ResidentRelation.TENANT,
    **{relation.value: relation for relation in ResidentRelation},
}
UNIT_STATE_WORDS: dict[str, UnitState] = {
    "已入住": UnitState.OCCUPIED,
    "入住": UnitState.OCCUPIED,
    "自住": UnitState.OCCUPIED,
    "出租": UnitState.OCCUPIED,
    "空置": UnitState.VACANT,
    "空房": UnitState.VACANT,
    "装修": UnitState.RENOVATING,
    "装修中": UnitState.RENOVATING,
    **{state.value: state for state in UnitState},
}


@dataclass(frozen=True)
class RosterRow:
    """One line of the roster, read and checked; ``line`` is its row in the file."""

    line: int
    designation: str  # 3-1-1204
    name: str
    phone: str
    relation: ResidentRelation = ResidentRelation.OWNER
    alt_phone: str | None = None
    moved_in_on: date | None = None
    unit_state: UnitState | None = None


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str


@dataclass
class RosterResult:
    """What an import did: residents added, residents whose details changed, rows that
    changed nothing, and the rows it could not use, each with why."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"新增 {self.added}，更新 {self.updated}，未变 {self.unchanged}，"
            f"未能导入 {len(self.problems)}"
        )


# ------------------------------------------------------------------ reading the file


def read_file(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The rows of an .xlsx or .csv roster as (row number, {field: text}), by its header row
    (the first row naming a 姓名 column). A CSV saved by Excel in China is GB18030: both it
    and UTF-8 are read."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _xlsx_rows(path)
    elif suffix == ".csv":
        table = _csv_rows(path)
    else:
        raise InvalidInput("只能导入 .xlsx 或 .csv 文件，而不是「{file}」", file=path.name)
    for index, header in enumerate(table):
        fields = _fields(header)
        if "name" in fields:
            return [
                (index + 2 + offset, _record(fields, cells))
                for offset, cells in enumerate(table[index + 1 :])
                if any(cell.strip() for cell in cells)
            ]
    raise InvalidInput("「{file}」里没有找到表头（需要有「姓名」列）", file=path.name)


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook  # only the import command reads workbooks

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises whatever its zip and XML readers raise
        raise InvalidInput(
            "无法读取「{file}」：{problem}", file=path.name, problem=type(error).__name__
        ) from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or a room number typed as a number: 1204.0
    return str(value).strip()


def _csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    raise InvalidInput("「{file}」既不是 UTF-8 也不是 GBK 编码的文本", file=path.name)


def _fields(header: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    names = [cell.strip().replace(" ", "") for cell in header]
    for key, aliases in COLUMNS.items():
        column = next((names.index(alias) for alias in aliases if alias in names), None)
        if column is not None:
            found[key] = column
    return found


def _record(fields: Mapping[str, int], cells: Sequence[str]) -> dict[str, str]:
    return {key: cells[column] if column < len(cells) else "" for key, column in fields.items()}


def _designation(record: Mapping[str, str]) -> str:
    """楼栋 3, 单元 1, 房号 1204 → 3-1-1204; a 房号 already whole (3-1-1204, 3栋1单元1204室)
    stands alone."""
    room = estates.normalize_designation(record.get("room", ""))
    building = estates.normalize_designation(record.get("building", ""))
    entrance = estates.normalize_designation(record.get("entrance", ""))
    if not building or room.count("-") >= 2:  # 3-1-1204 already names its building
        return room
    return "-".join(part for part in (building, entrance, room) if part)


def _day(text: str) -> date | None:
    text = text.strip().replace("/", "-").replace(".", "-")
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        match = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})", text)
        if match is None:
            raise ValueError(text) from None
        return date(int(match[1]), int(match[2]), int(match[3]))


def check_phone(phone: str) -> str:
    """The 11-digit mobile number binding asks for, or InvalidInput."""
    normalized = normalize_phone(phone)
    if not _MOBILE.match(normalized):
        raise InvalidInput("手机号「{phone}」不是有效的手机号码（11位，以1开头）", phone=phone)
    return normalized


def parse(
    records: Iterable[tuple[int, Mapping[str, str]]],
) -> tuple[list[RosterRow], list[Problem]]:
    """The rows that can be used, and why each other cannot."""
    rows: list[RosterRow] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    phones: dict[tuple[str, str], int] = {}
    for line, record in records:
        try:
            row = _row(line, record)
        except DomainError as error:
            problems.append(Problem(line, str(error)))
            continue
        again = seen.get((row.designation, row.name))
        same_phone = phones.get((row.designation, row.phone))
        if again is not None:
            problems.append(Problem(line, f"与第 {again} 行重复（{row.designation} {row.name}）"))
            continue
        if same_phone is not None:
            problems.append(
                Problem(line, f"手机号与第 {same_phone} 行相同：同一房号的住户各用各的手机号")
            )
            continue
        seen[(row.designation, row.name)] = phones[(row.designation, row.phone)] = line
        rows.append(row)
    return rows, problems


def _row(line: int, record: Mapping[str, str]) -> RosterRow:
    name = record.get("name", "").strip()
    if not name:
        raise InvalidInput("没有姓名")
    if len(name) > 100:
        raise InvalidInput("姓名过长")
    designation = _designation(record)
    if not designation:
        raise InvalidInput("没有房号")
    estates.parse_designation(designation)  # its form: 楼栋-单元-房号
    phone = check_phone(record.get("phone", ""))
    relation_word = record.get("relation", "").strip()
    relation = relation_named(relation_word) if relation_word else ResidentRelation.OWNER
    alt = record.get("alt_phone", "").strip()
    state_word = record.get("unit_state", "").strip()
    state = unit_state_named(state_word) if state_word else None
    try:
        moved_in = _day(record.get("moved_in_on", ""))
    except ValueError:
        raise InvalidInput(
            "入住日期「{day}」应写作 2026-03-15", day=record.get("moved_in_on", "")
        ) from None
    return RosterRow(
        line=line,
        designation=designation,
        name=name,
        phone=phone,
        relation=relation,
        alt_phone=normalize_phone(alt) or None,
        moved_in_on=moved_in,
        unit_state=state,
    )


# ------------------------------------------------------------------ keeping it


def import_roster(
    *, session: Session, estate_id: int, rows: Sequence[RosterRow], actor: Person | None, by: str
) -> RosterResult:
    """The roster's rows written: a resident is known in a unit by name, so a second run
    changes nothing and a changed phone is an update. A row naming a unit the estate does
    not have, or a phone on file for someone else, is reported and skipped."""
    result = RosterResult()
    units = {
        unit.designation: unit
        for unit in session.scalars(
            select(Unit).join(Unit.building).where(Building.estate_id == estate_id)
        )
    }
    for row in rows:
        unit = units.get(row.designation)
        if unit is None:
            result.problems.append(Problem(row.line, f"本小区没有房号 {row.designation}"))
            continue
        try:
            with session.begin_nested():
                changed = _keep(session, unit, row, actor=actor, by=by)
        except DomainError as error:
            result.problems.append(Problem(row.line, str(error)))
            continue
        if changed == MOVED_IN:
            result.added += 1
        elif changed:
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def _keep(session: Session, unit: Unit, row: RosterRow, *, actor: Person | None, by: str) -> str:
    """One row into the database: what it changed (MOVED_IN, a change, or "")."""
    residency = _named(session, unit, row.name)
    changes: list[str] = []
    if residency is None:
        person = _person_for(session, name=row.name, phone=row.phone)
        if row.alt_phone:
            person.alt_phone = row.alt_phone
        take_in(
            session=session,
            unit=unit,
            person=person,
            relation=row.relation,
            actor=actor,
            by=by,
            moved_in_on=row.moved_in_on,
        )
        _unit_state(session, unit, row.unit_state, actor=actor, by=by)
        return MOVED_IN
    person = residency.person
    if person.phone != row.phone:
        _phone_free(session, row.phone, person)
        changes.append(f"手机 {_mask(person.phone)}→{_mask(row.phone)}")
        person.phone = row.phone
    if residency.relation != row.relation:
        changes.append(
            f"身份 {RELATION_LABELS[residency.relation]}→{RELATION_LABELS[row.relation]}"
        )
        residency.relation = row.relation
    if row.alt_phone and person.alt_phone != row.alt_phone:
        changes.append("备用电话")
        person.alt_phone = row.alt_phone
    if row.moved_in_on and residency.moved_in_on != row.moved_in_on:
        changes.append(f"入住日期 {row.moved_in_on.isoformat()}")
        residency.moved_in_on = row.moved_in_on
    if _unit_state(session, unit, row.unit_state, actor=actor, by=by):
        changes.append("房屋状态")
    if changes:
        _trail(
            session,
            person,
            PHONE_CHANGED if changes[0].startswith("手机") else DETAILS_CHANGED,
            actor,
            f"{unit.designation}：{'，'.join(changes)}（{by}）",
        )
    return "changed" if changes else ""


def _mask(phone: str | None) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if phone and len(phone) >= 7 else "—"


def _residencies(session: Session, unit_id: int) -> list[Residency]:
    return list(session.scalars(select(Residency).where(Residency.unit_id == unit_id)))


def phone_holder(session: Session, phone: str, person: Person | None) -> Person | None:
    """Someone other than ``person`` this phone is on file for, who lives in a unit or holds
    a post. A stranger's refused request to be added, or someone who moved out, holds no
    number: nobody can block a resident's phone by typing it."""
    lives = select(Residency.id).where(Residency.person_id == Person.id).exists()
    works = (
        select(StaffMember.id)
        .where(StaffMember.person_id == Person.id, StaffMember.active.is_(True))
        .exists()
    )
    return session.scalar(
        select(Person)
        .where(
            Person.phone == phone,
            Person.id != (person.id if person else -1),
            lives | works,
        )
        .order_by(Person.id)
        .limit(1)
    )


def _phone_free(session: Session, phone: str, person: Person | None) -> None:
    """A phone identifies one person (binding by unit + phone, ``wuye invite --phone``)."""
    holder = phone_holder(session, phone, person)
    if holder is not None:
        raise InvalidInput("手机号 {phone} 已登记给 {name}", phone=_mask(phone), name=holder.name)


def _person_for(session: Session, *, name: str, phone: str) -> Person:
    """The person this phone is on file for (one who owns a second unit, or moved out and
    back in), or someone new."""
    holder = phone_holder(session, phone, None)
    if holder is not None:
        if holder.name != name:
            raise InvalidInput(
                "手机号 {phone} 已登记给 {name}", phone=_mask(phone), name=holder.name
            )
        return holder
    returning = session.scalar(
        select(Person).where(Person.phone == phone, Person.name == name).order_by(Person.id)
    )
    if returning is not None:
        return returning
    person = Person(name=name, phone=phone)
    session.add(person)
    session.flush()
    return person


def _unit_state(
    session: Session, unit: Unit, state: UnitState | None, *, actor: Person | None, by: str
) -> bool:
    if state is None or unit.state is state:
        return False
    set_unit_state(session=session, unit=unit, state=state, actor=actor, by=by)
    return True


def set_unit_state(
    *, session: Session, unit: Unit, state: UnitState, actor: Person | None, by: str
) -> None:
    """已入住 / 空置 / 装修中, on the unit's trail."""
    before = unit.state
    unit.state = state
    audit.record(
        session=session,
        obj=unit,
        from_state=before.value,
        to_state=state.value,
        actor=actor,
        note=f"{unit.designation} {UNIT_STATE_LABELS[state]}（{by}）",
    )


def add_resident(
    *,
    session: Session,
    unit: Unit,
    name: str,
    phone: str,
    relation: ResidentRelation,
    actor: Person | None,
    by: str,
    alt_phone: str | None = None,
    moved_in_on: date | None = None,
) -> Person:
    """A new owner, family member or tenant of ``unit`` (the desk's 新增住户)."""
    name = name.strip()
    if not name:
        raise InvalidInput("请填写姓名")
    row = RosterRow(
        line=0,
        designation=unit.designation,
        name=name,
        phone=check_phone(phone),
        relation=relation,
        alt_phone=normalize_phone(alt_phone or "") or None,
        moved_in_on=moved_in_on,
    )
    if _named(session, unit, name) is not None:
        raise InvalidInput(
            "{unit} 已登记了住户 {name}；换手机号请用「变更手机号」",
            unit=unit.designation,
            name=name,
        )
    _keep(session, unit, row, actor=actor, by=by)
    return resident(session=session, unit=unit, name=name).person


def take_in(
    *,
    session: Session,
    unit: Unit,
    person: Person,
    relation: ResidentRelation,
    actor: Person | None,
    by: str,
    moved_in_on: date | None = None,
) -> Residency:
    """Someone known (a roster's row, a binding request's person) recorded as living in
    ``unit``."""
    if person.phone:
        _phone_free(session, person.phone, person)
    residency = Residency(person=person, unit=unit, relation=relation, moved_in_on=moved_in_on)
    session.add(residency)
    session.flush()
    _trail(
        session, person, MOVED_IN, actor, f"{unit.designation} {RELATION_LABELS[relation]}（{by}）"
    )
    return residency


def _trail(session: Session, person: Person, change: str, actor: Person | None, note: str) -> None:
    """A change of a resident's, on the person's own trail (their export includes it)."""
    audit.record(
        session=session, obj=person, from_state=None, to_state=change, actor=actor, note=note
    )


def _named(session: Session, unit: Unit, name: str) -> Residency | None:
    """The unit's resident of this name: how the roster knows a resident in a unit."""
    return next((r for r in _residencies(session, unit.id) if r.person.name == name), None)


def resident(*, session: Session, unit: Unit, name: str) -> Residency:
    found = _named(session, unit, name)
    if found is None:
        raise NotFound("{unit} 没有登记住户 {name}", unit=unit.designation, name=name)
    return found


def change_phone(
    *, session: Session, residency: Residency, phone: str, actor: Person | None, by: str
) -> Person:
    """信息变更: the resident's new phone (binding and the desk's calls use it)."""
    person = residency.person
    wanted = check_phone(phone)
    if person.phone == wanted:
        raise InvalidInput("新手机号与原来的相同")
    _phone_free(session, wanted, person)
    before = person.phone
    person.phone = wanted
    _trail(
        session,
        person,
        PHONE_CHANGED,
        actor,
        f"{residency.unit.designation}：手机 {_mask(before)}→{_mask(wanted)}（{by}）",
    )
    return person


def move_out(*, session: Session, residency: Residency, actor: Person | None, by: str) -> Person:
    """The resident no longer lives in the unit: the owners' flows for it close to them
    (their chat account stays bound, for another unit or a new one). Their tickets stay."""
    person, unit = residency.person, residency.unit
    session.delete(residency)
    session.flush()
    _trail(session, person, MOVED_OUT, actor, f"{unit.designation} 迁出（{by}）")
    return person


@dataclass(frozen=True)
class ResidentLine:
    person_id: int
    unit: str
    unit_state: UnitState
    name: str
    phone: str | None
    relation: ResidentRelation
    alt_phone: str | None
    moved_in_on: date | None
    bound: bool


def list_residents(
    *, session: Session, estate_id: int, building: str | None = None
) -> list[ResidentLine]:
    """The roster as it stands, by unit, the owners first; ``bound``: they have a chat
    account."""
    from storage.identity.models import ChatIdentity  # identity depends on people

    query = (
        select(Residency)
        .join(Unit, Residency.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
        .where(Building.estate_id == estate_id)
    )
    if building is not None:
        query = query.where(Building.code == estates.normalize_designation(building))
    bound = set(session.scalars(select(ChatIdentity.person_id)))
    order = {ResidentRelation.OWNER: 0, ResidentRelation.FAMILY: 1, ResidentRelation.TENANT: 2}
    lines = [
        ResidentLine(
            person_id=r.person_id,
            unit=r.unit.designation,
            unit_state=r.unit.state,
            name=r.person.name,
            phone=r.person.phone,
            relation=r.relation,
            alt_phone=r.person.alt_phone,
            moved_in_on=r.moved_in_on,
            bound=r.person_id in bound,
        )
        for r in session.scalars(query)
    ]
    return sorted(lines, key=lambda line: (_unit_order(line.unit), order.get(line.relation, 3)))


def _unit_order(designation: str) -> tuple[tuple[int, int, str], ...]:
    """3-1-902 before 3-1-1204: numbers as numbers."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in designation.split("-")
    )


def relation_named(word: str) -> ResidentRelation:
    relation = RELATION_WORDS.get(word.strip())
    if relation is None:
        raise InvalidInput("身份「{word}」应为 业主、家属 或 租户", word=word)
    return relation


def unit_state_named(word: str) -> UnitState:
    state = UNIT_STATE_WORDS.get(word.strip())
    if state is None:
        raise InvalidInput("房屋状态「{word}」应为 已入住、空置 或 装修中", word=word)
    return state
