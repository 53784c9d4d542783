"""Who is who: residents of units, staff posts, and the checks of who may do what."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, contains_eager

from storage.errors import NotFound, PermissionDenied
from storage.estate.models import Building, Unit
from storage.i18n import Msg
from storage.people.models import (
    Department,
    DepartmentKind,
    Person,
    Residency,
    ResidentRelation,
    StaffMember,
    StaffRole,
)

_NOT_DIGITS = re.compile(r"\D")


def normalize_phone(phone: str) -> str:
    """Digits only, without China's +86 / 0086, so that '138 0013 8000' matches '13800138000'."""
    digits = _NOT_DIGITS.sub("", phone)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix) :]
    return digits


def get_person(*, session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("找不到人员 #{person_id}", person_id=person_id)
    return person


# Built once: asked at every report, every order taken, every step a member of staff takes.
_STAFF_POST = select(StaffMember).where(
    StaffMember.person_id == bindparam("person_id"),
    StaffMember.estate_id == bindparam("estate_id"),
    StaffMember.active.is_(True),
)


def staff_post(*, session: Session, person_id: int, estate_id: int) -> StaffMember | None:
    return session.scalar(_STAFF_POST, {"person_id": person_id, "estate_id": estate_id})


def require_staff(
    *,
    session: Session,
    actor: Person,
    estate_id: int,
    roles: Collection[StaffRole] | None = None,
    doing: str,
) -> StaffMember:
    """The actor's post at the estate, or PermissionDenied naming what they tried to do."""
    post = staff_post(session=session, person_id=actor.id, estate_id=estate_id)
    if post is None:
        raise PermissionDenied("只有本项目员工可以{doing}", doing=Msg(doing))
    if roles is not None and post.role not in roles:
        raise PermissionDenied("您的岗位不能{doing}", doing=Msg(doing))
    return post


_RESIDENCY = select(Residency.id).where(
    Residency.person_id == bindparam("person_id"), Residency.unit_id == bindparam("unit_id")
)


def is_resident(*, session: Session, person_id: int, unit_id: int) -> bool:
    found = session.scalar(_RESIDENCY, {"person_id": person_id, "unit_id": unit_id})
    return found is not None


# Asked for nearly every message: built once, SQLAlchemy neither rebuilds it nor its cache key.
_ANY_RESIDENCY = select(Residency.id).where(Residency.person_id == bindparam("person_id")).limit(1)


def has_residency(*, session: Session, person_id: int) -> bool:
    """Lives in some unit (owner, tenant, family): whom the owners' flows are for."""
    return session.scalar(_ANY_RESIDENCY, {"person_id": person_id}) is not None


# Asked several times in every owner's report (the place question, its answer, the summary):
# built once, and the building that orders the units is the one loaded with them.
_UNITS_OF = (
    select(Unit)
    .join(Residency, Residency.unit_id == Unit.id)
    .join(Unit.building)
    .options(contains_eager(Unit.building))
    .where(Residency.person_id == bindparam("person_id"))
    .order_by(Building.code, Unit.number)
)


def units_of(*, session: Session, person_id: int) -> list[Unit]:
    return list(session.scalars(_UNITS_OF, {"person_id": person_id}))


def residents_of(*, session: Session, unit_id: int) -> list[Residency]:
    """Who lives in a unit, the owners first: the desk registers a phone report for one."""
    rows = session.scalars(
        select(Residency).where(Residency.unit_id == unit_id).order_by(Residency.id)
    )
    order = {ResidentRelation.OWNER: 0, ResidentRelation.FAMILY: 1, ResidentRelation.TENANT: 2}
    return sorted(rows, key=lambda r: order.get(r.relation, 3))


def resides_in_estate(*, session: Session, person_id: int, estate_id: int) -> bool:
    query = (
        select(Residency.id)
        .join(Unit, Residency.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
        .where(Residency.person_id == person_id, Building.estate_id == estate_id)
        .limit(1)
    )
    return session.scalar(query) is not None


def _posts_with_roles(*, by_estate: bool, by_department: bool) -> Select[tuple[StaffMember]]:
    query = select(StaffMember).where(
        StaffMember.role.in_(bindparam("roles", expanding=True)), StaffMember.active.is_(True)
    )
    if by_estate:
        query = query.where(StaffMember.estate_id == bindparam("estate_id"))
    if by_department:
        query = query.where(StaffMember.department_id == bindparam("department_id"))
    return query.order_by(StaffMember.person_id, StaffMember.id)


# Built once (by estate, by department, by both): asked on every repair, complaint and
# deadline, and building the expression cost more than running it.
_POSTS_WITH_ROLES = {
    (by_estate, by_department): _posts_with_roles(by_estate=by_estate, by_department=by_department)
    for by_estate, by_department in ((True, False), (False, True), (True, True))
}


def staff_with_roles(
    *,
    session: Session,
    roles: Collection[StaffRole],
    estate_id: int | None = None,
    department_id: int | None = None,
) -> list[StaffMember]:
    """The one question of who holds a role: the active posts with one of ``roles``, at an
    estate or in a department, in the order the people were registered."""
    if estate_id is None and department_id is None:
        raise ValueError("whose staff: an estate or a department is needed")
    query = _POSTS_WITH_ROLES[(estate_id is not None, department_id is not None)]
    values = {"roles": sorted(roles), "estate_id": estate_id, "department_id": department_id}
    return list(session.scalars(query, values))


def holders(posts: Iterable[StaffMember]) -> list[Person]:
    """The people in these posts, each once."""
    return list({post.person_id: post.person for post in posts}.values())


def department_heads(*, session: Session, department_id: int) -> list[Person]:
    return holders(
        staff_with_roles(session=session, roles={StaffRole.SUPERVISOR}, department_id=department_id)
    )


def project_managers(*, session: Session, estate_id: int) -> list[Person]:
    return holders(
        staff_with_roles(session=session, roles={StaffRole.PROJECT_MANAGER}, estate_id=estate_id)
    )


def company_leaders(*, session: Session, estate_id: int) -> list[Person]:
    return holders(
        staff_with_roles(session=session, roles={StaffRole.COMPANY_LEADER}, estate_id=estate_id)
    )


def leadership(*, session: Session, estate_id: int) -> list[Person]:
    """Who a major complaint goes to (002 五清楚一报告): the project manager, and the
    company's leader above them where the estate file names one."""
    found = project_managers(session=session, estate_id=estate_id)
    found += company_leaders(session=session, estate_id=estate_id)
    return list({person.id: person for person in found}.values())


def responsible_for(*, session: Session, department: Department) -> list[Person]:
    """Whom to tell about work for a department: its heads, or the project manager if none."""
    return department_heads(session=session, department_id=department.id) or project_managers(
        session=session, estate_id=department.estate_id
    )


# Built once: asked for every repair and complaint the desk is told of. An estate's
# department of a kind is its first of that kind; other queries take it as a subquery.
DEPARTMENT_OF_KIND_ID = (
    select(Department.id)
    .where(Department.estate_id == bindparam("estate_id"), Department.kind == bindparam("kind"))
    .order_by(Department.id)
    .limit(1)
)
_DEPARTMENT_OF_KIND = DEPARTMENT_OF_KIND_ID.with_only_columns(Department)


def department_of_kind(*, session: Session, estate_id: int, kind: DepartmentKind) -> Department:
    department = session.scalar(_DEPARTMENT_OF_KIND, {"estate_id": estate_id, "kind": kind})
    if department is None:
        raise NotFound("本项目没有{kind}部门", kind=kind.value)
    return department


def get_department(*, session: Session, department_id: int, estate_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None or department.estate_id != estate_id:
        raise NotFound("本项目没有部门 #{department_id}", department_id=department_id)
    return department


def staff_by_code(*, session: Session, estate_id: int, code: str) -> StaffMember | None:
    """A post by the staff code (工号) the desk knows it by."""
    return session.scalar(
        select(StaffMember).where(
            StaffMember.estate_id == estate_id, StaffMember.staff_code == code
        )
    )


def get_staff(*, session: Session, staff_id: int, estate_id: int) -> StaffMember:
    staff = session.get(StaffMember, staff_id)
    if staff is None or staff.estate_id != estate_id or not staff.active:
        raise NotFound("本项目没有员工 #{staff_id}", staff_id=staff_id)
    return staff


def resident_by_phone(*, session: Session, estate_id: int, phone: str) -> Person | None:
    query = (
        select(Person)
        .join(Residency, Residency.person_id == Person.id)
        .join(Unit, Residency.unit_id == Unit.id)
        .join(Building, Unit.building_id == Building.id)
        .where(Building.estate_id == estate_id, Person.phone == normalize_phone(phone))
        .limit(1)
    )
    return session.scalar(query)


def desk_staff(*, session: Session, estate_id: int) -> list[Person]:
    """Customer service first; their supervisors stand in when there is nobody at the desk."""
    return holders(
        staff_with_roles(session=session, roles={StaffRole.CUSTOMER_SERVICE}, estate_id=estate_id)
    ) or project_managers(session=session, estate_id=estate_id)


def desk_heads(*, session: Session, estate_id: int) -> list[Person]:
    """The customer-service supervisors: who hears of late callbacks and complaints (the
    project manager where the estate has no customer-service department)."""
    try:
        desk = department_of_kind(
            session=session, estate_id=estate_id, kind=DepartmentKind.CUSTOMER_SERVICE
        )
    except NotFound:
        return project_managers(session=session, estate_id=estate_id)
    return responsible_for(session=session, department=desk)


LINE_ROLES = frozenset(
    {StaffRole.ENGINEERING, StaffRole.SECURITY, StaffRole.CLEANING, StaffRole.LANDSCAPING}
)


def line_staff(*, session: Session, estate_id: int) -> list[StaffMember]:
    """The people who do the work: technicians, guards, cleaners, gardeners, by department."""
    posts = staff_with_roles(session=session, roles=LINE_ROLES, estate_id=estate_id)
    return sorted(posts, key=lambda post: (post.department_id, post.staff_code))


def departments(*, session: Session, estate_id: int) -> list[Department]:
    query = select(Department).where(Department.estate_id == estate_id).order_by(Department.id)
    return list(session.scalars(query))
