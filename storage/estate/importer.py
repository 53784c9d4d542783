"""Import an estate from YAML: estate, departments, buildings, units, residents and staff.

Running the same file twice changes nothing; a changed file updates what it
names and leaves everything else alone (people are never deleted by an import:
their tickets and audit trail refer to them).
"""

from __future__ import annotations

from collections import Counter
from datetime import time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import InvalidInput
from storage.estate.models import Building, Estate, Unit
from storage.estate.service import normalize_designation
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

Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EstateSpec(_Strict):
    code: Code
    name: str = Field(min_length=1, max_length=100)
    digest_time: time = time(18, 30)
    briefing_time: time = time(8, 30)


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


class EstateFile(_Strict):
    estate: EstateSpec
    departments: list[DepartmentSpec] = Field(default_factory=list)
    buildings: list[BuildingSpec] = Field(default_factory=list)
    residents: list[ResidentSpec] = Field(default_factory=list)
    staff: list[StaffSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_resolve(self) -> EstateFile:
        departments = {d.code for d in self.departments}
        for member in self.staff:
            if member.department not in departments:
                raise ValueError(f"staff {member.code}: unknown department {member.department!r}")
        units = {f"{b.code}-{n}" for b in self.buildings for n in b.numbers()}
        for resident in self.residents:
            for designation in resident.units:
                if normalize_designation(designation) not in units:
                    raise ValueError(f"resident {resident.name}: unknown unit {designation!r}")
        return self


def parse(data: Any) -> EstateFile:
    try:
        return EstateFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput("estate file is not valid: {problems}", problems=problems) from None


def import_estate(*, session: Session, data: Any) -> Counter[str]:
    """Create or update everything the file names; returns counts of what was created."""
    spec = parse(data)
    created: Counter[str] = Counter()

    estate = session.scalar(select(Estate).where(Estate.code == spec.estate.code))
    if estate is None:
        estate = Estate(code=spec.estate.code, name=spec.estate.name)
        session.add(estate)
        session.flush()
        created["estates"] += 1
    estate.name = spec.estate.name
    estate.digest_time, estate.briefing_time = spec.estate.digest_time, spec.estate.briefing_time

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
