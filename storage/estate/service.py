"""Estates, their buildings and units, and the idempotent import of an estate file."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import InvalidInput, NotFound
from storage.estate.models import Building, Estate, Unit

# "3栋1单元502室", "3号楼-1-502", "３－１－５０２" all mean building 3, unit 1-502.
_SEPARATORS = re.compile(r"(号楼|栋|幢|座|单元|[-－—_/\s])+")
_SUFFIX = re.compile(r"(室|号|房)$")


def normalize_designation(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().upper()
    text = _SUFFIX.sub("", text)
    return _SEPARATORS.sub("-", text).strip("-")


def get_estate(*, session: Session, code: str) -> Estate:
    estate = session.scalar(select(Estate).where(Estate.code == code))
    if estate is None:
        raise NotFound("没有编号为 {code} 的项目", code=code)
    return estate


def list_estates(*, session: Session) -> list[Estate]:
    return list(session.scalars(select(Estate).order_by(Estate.code)))


def get_unit(*, session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("找不到房号 #{unit_id}", unit_id=unit_id)
    return unit


def parse_designation(designation: str) -> tuple[str, str]:
    """``3-1-502`` as its building code and unit number (``3``, ``1-502``), or InvalidInput
    when it cannot be a unit. Whether such a unit exists it does not say: binding asks this
    of a stranger, who must not learn which units there are."""
    building_code, _, number = normalize_designation(designation).partition("-")
    if not building_code or not number:
        raise InvalidInput(
            "房号「{designation}」格式不对，请按 楼栋-单元-房号 填写，例如 3-1-502",
            designation=designation,
        )
    return building_code, number


def find_unit(*, session: Session, estate_id: int, designation: str) -> Unit:
    """The unit an owner means by ``3-1-502`` (building 3, unit number ``1-502``)."""
    building_code, number = parse_designation(designation)
    unit = session.scalar(
        select(Unit)
        .join(Building, Unit.building_id == Building.id)
        .where(
            Building.estate_id == estate_id,
            Building.code == building_code,
            Unit.number == number,
        )
    )
    if unit is None:
        raise InvalidInput("本小区没有房号「{designation}」", designation=designation)
    return unit
