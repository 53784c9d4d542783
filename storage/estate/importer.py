"""Import an estate from YAML: estate, departments, buildings, units, residents and staff.

Running the same file twice changes nothing; a changed file updates what it
names and leaves everything else alone (people are never deleted by an import:
their tickets and audit trail refer to them).
"""

from __future__ import annotations

from collections import Counter
from datetime import date as dt_date
from datetime import time
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.duty import service as duty
from storage.errors import InvalidInput
from storage.estate.models import Building, Estate, Unit
from storage.estate.service import normalize_designation
from storage.patrol.models import PatrolRound, RoundKind
from storage.people.models import (
    Department,
    DepartmentKind,
    Person,
    Residency,
    ResidentRelation,
    StaffMember,
    StaffRole,
)
from storage.people.service import normalize_phone

# The sample estate 翠湖花园, shipped with the package: `wuye run` starts with it.
SAMPLE = Path(__file__).with_name("sample-estate.yaml")

Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DeskHoursSpec(_Strict):
    """003 篇十二 三(二): the desk's hours on China's working days and on rest days."""

    workdays: str = "08:30-18:00"
    rest_days: str = "09:00-17:00"

    @model_validator(mode="after")
    def _hours_read(self) -> DeskHoursSpec:
        for hours in (self.workdays, self.rest_days):
            opens, closes = _hours(hours)
            if closes <= opens:
                raise ValueError(f"desk hours {hours!r}: the desk closes after it opens")
        return self


def _hours(text: str) -> tuple[time, time]:
    try:
        opens, closes = (time.fromisoformat(part.strip()) for part in text.split("-", 1))
    except ValueError:
        raise ValueError(f"{text!r}: write hours as 08:30-18:00") from None
    return opens, closes


class CalendarSpec(_Strict):
    """Corrections to China's calendar of working days, for this estate alone."""

    holidays: list[dt_date] = Field(default_factory=list)  # closed, though China works
    workdays: list[dt_date] = Field(default_factory=list)  # worked, though China rests


class EstateSpec(_Strict):
    code: Code
    name: str = Field(min_length=1, max_length=100)
    digest_time: time = time(18, 30)
    briefing_time: time = time(8, 30)
    desk_hours: DeskHoursSpec = Field(default_factory=DeskHoursSpec)
    calendar: CalendarSpec = Field(default_factory=lambda: CalendarSpec())


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DutySpec(_Strict):
    """A line of the duty roster 值班表: a staff member, a shift, on weekdays or a date."""

    staff: Code
    shift: str = Field(pattern=r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$")
    days: list[str] = Field(default_factory=list)  # mon … sun
    date: dt_date | None = None

    @model_validator(mode="after")
    def _one_kind_of_day(self) -> DutySpec:
        if bool(self.days) == (self.date is not None):
            raise ValueError(f"duty of {self.staff}: give days (mon … sun) or a date")
        for day in self.days:
            if day not in WEEKDAY_NAMES:
                raise ValueError(f"duty of {self.staff}: {day!r} is not one of {WEEKDAY_NAMES}")
        return self


class DepartmentSpec(_Strict):
    code: Code
    name: str = Field(min_length=1, max_length=50)
    kind: DepartmentKind


class LayoutSpec(_Strict):
    """Rooms numbered ``<entrance>-<floor><room:02>``.

    entrances 2, floors 6, rooms 2 → 1-101, 1-102, 1-201 … 2-602.
    """

    entrances: int = Field(ge=1, le=20)
    floors: int = Field(ge=1, le=120)
    rooms_per_floor: int = Field(ge=1, le=99)

    def numbers(self) -> list[str]:
        return [
            f"{entrance}-{floor}{room:02d}"
            for entrance in range(1, self.entrances + 1)
            for floor in range(1, self.floors + 1)
            for room in range(1, self.rooms_per_floor + 1)
        ]


class BuildingSpec(_Strict):
    code: Code
    name: str = Field(min_length=1, max_length=50)
    layout: LayoutSpec | None = None
    units: list[str] = Field(default_factory=list)

    def numbers(self) -> list[str]:
        listed = [normalize_designation(u) for u in self.units]
        return list(dict.fromkeys((self.layout.numbers() if self.layout else []) + listed))


class ResidentSpec(_Strict):
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=5, max_length=32)
    units: list[str] = Field(min_length=1)
    relation: ResidentRelation = ResidentRelation.OWNER


class StaffSpec(_Strict):
    code: Code
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = None
    role: StaffRole
    department: Code
    active: bool = True


class AreaSpec(_Strict):
    """An area a round checks, and its check points (日检区域安排)."""

    name: str = Field(min_length=1, max_length=100)
    points: list[str] = Field(default_factory=list)


class RoundSpec(_Strict):
    """A patrol round (001 巡检规程 3.2-3.5): its kind, who walks it (the leader first), on
    which weekdays (or ``workdays``: China's working days), in which window, what it checks.
    A 经理复查 (recheck) goes through last week's findings and needs no areas."""

    code: Code
    name: str = Field(min_length=1, max_length=100)
    kind: RoundKind
    walkers: list[Code] = Field(min_length=1)
    days: list[str] | str
    time: str = Field(pattern=r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$")
    areas: list[AreaSpec | str] = Field(default_factory=list)
    active: bool = True

    @model_validator(mode="after")
    def _days_and_hours(self) -> RoundSpec:
        if isinstance(self.days, str) and self.days not in ("workdays", "daily"):
            raise ValueError(f"round {self.code}: days is a list of mon … sun, workdays or daily")
        for day in self.days if isinstance(self.days, list) else []:
            if day not in WEEKDAY_NAMES:
                raise ValueError(f"round {self.code}: {day!r} is not one of {WEEKDAY_NAMES}")
        starts, ends = _hours(self.time)
        if ends <= starts:
            raise ValueError(f"round {self.code}: {self.time!r} ends before it starts")
        if self.kind is not RoundKind.RECHECK and not self.areas:
            raise ValueError(f"round {self.code}: name the areas it checks")
        return self

    def weekdays(self) -> list[int]:
        if isinstance(self.days, str):
            return list(range(7))
        return sorted(WEEKDAY_NAMES.index(day) for day in self.days)

    def area_records(self) -> list[dict[str, object]]:
        return [
            {"name": area, "points": []}
            if isinstance(area, str)
            else {"name": area.name, "points": area.points}
            for area in self.areas
        ]


class SurveySpec(_Strict):
    """业主评议's questionnaire: each item is answered 满意 / 较满意 / 不满意, then a remark."""

    items: list[str] = Field(min_length=1, max_length=20)


class EstateFile(_Strict):
    estate: EstateSpec
    departments: list[DepartmentSpec] = Field(default_factory=list)
    buildings: list[BuildingSpec] = Field(default_factory=list)
    residents: list[ResidentSpec] = Field(default_factory=list)
    staff: list[StaffSpec] = Field(default_factory=list)
    duty: list[DutySpec] = Field(default_factory=list)
    patrol_rounds: list[RoundSpec] = Field(default_factory=list)
    survey: SurveySpec | None = None
    # Lines `wuye run` shows a newcomer trying the sample estate; {invite:CODE} and
    # {name:CODE} stand for a fresh binding code and the name of the staff member CODE.
    try_it: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_resolve(self) -> EstateFile:
        departments = {d.code for d in self.departments}
        for member in self.staff:
            if member.department not in departments:
                raise ValueError(f"staff {member.code}: unknown department {member.department!r}")
        codes = {member.code for member in self.staff}
        for line in self.duty:
            if line.staff not in codes:
                raise ValueError(f"duty: unknown staff {line.staff!r}")
        for patrol_round in self.patrol_rounds:
            for walker in patrol_round.walkers:
                if walker not in codes:
                    raise ValueError(f"round {patrol_round.code}: unknown staff {walker!r}")
        units = {f"{b.code}-{n}" for b in self.buildings for n in b.numbers()}
        for resident in self.residents:
            for designation in resident.units:
                if normalize_designation(designation) not in units:
                    raise ValueError(f"resident {resident.name}: unknown unit {designation!r}")
        return self


def read(path: Path) -> Any:
    """An estate file's YAML. Whatever is wrong with it is one line naming the file."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(
            "无法读取 {file}：{problem}", file=str(path), problem=exc.strerror or type(exc).__name__
        ) from None
    except UnicodeDecodeError:
        raise InvalidInput("{file} 不是 UTF-8 文本", file=str(path)) from None
    except yaml.YAMLError as exc:
        raise InvalidInput(
            "{file} 不是有效的 YAML：{problem}", file=str(path), problem=_one_line(exc)
        ) from None


def _one_line(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(error).split())


def parse(data: Any, source: str = "estate file") -> EstateFile:
    try:
        return EstateFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(
            "{source} 不是有效的项目文件：{problems}", source=source, problems=problems
        ) from None


def import_estate(*, session: Session, data: Any, source: str = "estate file") -> Counter[str]:
    """Create or update everything the file names (its YAML, or already parsed); returns
    counts of what was created."""
    spec = data if isinstance(data, EstateFile) else parse(data, source)
    created: Counter[str] = Counter()

    estate = session.scalar(select(Estate).where(Estate.code == spec.estate.code))
    if estate is None:
        estate = Estate(code=spec.estate.code, name=spec.estate.name)
        session.add(estate)
        session.flush()
        created["estates"] += 1
    estate.name = spec.estate.name
    estate.digest_time, estate.briefing_time = spec.estate.digest_time, spec.estate.briefing_time
    hours = spec.estate.desk_hours
    estate.desk_opens_workday, estate.desk_closes_workday = _hours(hours.workdays)
    estate.desk_opens_rest_day, estate.desk_closes_rest_day = _hours(hours.rest_days)
    corrections = spec.estate.calendar
    estate.calendar = (
        {
            "holidays": sorted(d.isoformat() for d in corrections.holidays),
            "workdays": sorted(d.isoformat() for d in corrections.workdays),
        }
        if corrections.holidays or corrections.workdays
        else None
    )
    estate.survey_items = list(spec.survey.items) if spec.survey is not None else None

    departments: dict[str, Department] = {
        d.code: d
        for d in session.scalars(select(Department).where(Department.estate_id == estate.id))
    }
    for d_spec in spec.departments:
        department = departments.get(d_spec.code)
        if department is None:
            department = Department(estate_id=estate.id, code=d_spec.code)
            session.add(department)
            departments[d_spec.code] = department
            created["departments"] += 1
        department.name, department.kind = d_spec.name, d_spec.kind

    units: dict[str, Unit] = {}
    for b_spec in spec.buildings:
        building = session.scalar(
            select(Building).where(Building.estate_id == estate.id, Building.code == b_spec.code)
        )
        if building is None:
            building = Building(estate_id=estate.id, code=b_spec.code, name=b_spec.name)
            session.add(building)
            session.flush()
            created["buildings"] += 1
        building.name = b_spec.name
        existing = {u.number: u for u in building.units}
        for number in b_spec.numbers():
            unit = existing.get(number)
            if unit is None:
                unit = Unit(building=building, number=number)
                session.add(unit)
                created["units"] += 1
            units[f"{b_spec.code}-{number}"] = unit
    session.flush()

    for r_spec in spec.residents:
        person = _person_by_phone(session, r_spec.name, r_spec.phone, created)
        for designation in r_spec.units:
            unit = units[normalize_designation(designation)]
            residency = session.scalar(
                select(Residency).where(
                    Residency.person_id == person.id, Residency.unit_id == unit.id
                )
            )
            if residency is None:
                session.add(Residency(person=person, unit=unit, relation=r_spec.relation))
                created["residencies"] += 1
            else:
                residency.relation = r_spec.relation
    session.flush()

    for s_spec in spec.staff:
        member = session.scalar(
            select(StaffMember).where(
                StaffMember.estate_id == estate.id, StaffMember.staff_code == s_spec.code
            )
        )
        if member is None:
            if s_spec.phone:
                person = _person_by_phone(session, s_spec.name, s_spec.phone, created)
            else:
                person = Person(name=s_spec.name)
                session.add(person)
                created["people"] += 1
            member = StaffMember(estate_id=estate.id, person=person, staff_code=s_spec.code)
            session.add(member)
            created["staff"] += 1
        member.person.name = s_spec.name
        member.role = s_spec.role
        member.department = departments[s_spec.department]
        member.active = s_spec.active
    session.flush()

    rostered = len(duty.every_shift(session, estate_id=estate.id))
    for line in spec.duty:
        # The file's roster lines are set (a changed shift replaced); lines it no longer has
        # stay until `wuye duty remove` takes them off.
        duty.set_shift(
            session,
            estate_id=estate.id,
            staff_code=line.staff,
            shift=line.shift,
            weekdays=[WEEKDAY_NAMES.index(day) for day in line.days],
            on_date=line.date,
        )
    if added := len(duty.every_shift(session, estate_id=estate.id)) - rostered:
        created["duty shifts"] += added

    for round_spec in spec.patrol_rounds:
        patrol_round = session.scalar(
            select(PatrolRound).where(
                PatrolRound.estate_id == estate.id, PatrolRound.code == round_spec.code
            )
        )
        if patrol_round is None:
            patrol_round = PatrolRound(estate_id=estate.id, code=round_spec.code)
            session.add(patrol_round)
            created["patrol rounds"] += 1
        patrol_round.name, patrol_round.kind = round_spec.name, round_spec.kind
        patrol_round.weekdays = round_spec.weekdays()
        patrol_round.working_days_only = round_spec.days == "workdays"
        patrol_round.starts_at, patrol_round.ends_at = _hours(round_spec.time)
        patrol_round.walkers = list(round_spec.walkers)
        patrol_round.areas = round_spec.area_records()
        patrol_round.active = round_spec.active
    session.flush()
    return created


def _person_by_phone(session: Session, name: str, phone: str, created: Counter[str]) -> Person:
    """The same phone number is the same person, across units, roles and re-imports."""
    normalized = normalize_phone(phone)
    person = session.scalar(select(Person).where(Person.phone == normalized).order_by(Person.id))
    if person is None:
        person = Person(name=name, phone=normalized)
        session.add(person)
        session.flush()
        created["people"] += 1
    person.name = name
    return person
