"""Importing an estate, and finding a unit the way owners write it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.errors import InvalidInput
from storage.estate import importer
from storage.estate import service as estates
from storage.estate.models import Unit
from storage.people.models import Person, StaffMember, StaffRole
from tests.conftest import SampleEstate


def test_the_sample_estate_imports_once_and_a_second_import_changes_nothing(
    session: Session, sample_data: Any
) -> None:
    created = importer.import_estate(session=session, data=sample_data)
    assert created["units"] == 120
    assert created["staff"] == 14
    assert created["estates"] == 1
    people_before = session.scalar(select(func.count(Person.id)))
    assert importer.import_estate(session=session, data=sample_data) == {}
    assert session.scalar(select(func.count(Person.id))) == people_before


def test_a_changed_file_updates_what_it_names(session: Session, sample_data: Any) -> None:
    importer.import_estate(session=session, data=sample_data)
    changed = copy.deepcopy(sample_data)
    changed["staff"][0]["role"] = "supervisor"
    changed["buildings"][0]["units"] = ["9-901"]
    created = importer.import_estate(session=session, data=changed)
    assert created == {"units": 1}
    member = session.scalar(select(StaffMember).where(StaffMember.staff_code == "K01"))
    assert member is not None
    assert member.role is StaffRole.SUPERVISOR


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["staff"].append(
                {"code": "X1", "name": "某", "role": "engineering", "department": "nope"}
            ),
            "unknown department 'nope'",
        ),
        (
            lambda d: d["residents"].append(
                {"name": "某", "phone": "13000000000", "units": ["9-9-999"]}
            ),
            "unknown unit '9-9-999'",
        ),
        (
            lambda d: d["staff"].append(
                {"code": "X1", "name": "某", "role": "janitor", "department": "kf"}
            ),
            "staff.14.role",
        ),
        (lambda d: d.pop("estate"), "estate: Field required"),
    ],
)
def test_a_bad_estate_file_is_refused_with_what_is_wrong(
    session: Session, sample_data: Any, mutate: Any, message: str
) -> None:
    data = copy.deepcopy(sample_data)
    mutate(data)
    with pytest.raises(InvalidInput, match=message):
        importer.import_estate(session=session, data=data)
    assert session.scalar(select(func.count(Unit.id))) == 0


@pytest.mark.parametrize(
    "written", ["3-1-1204", "3栋1单元1204室", "３－１－１２０４", " 3号楼-1-1204 ", "3幢1单元1204"]
)
def test_a_unit_is_found_however_the_owner_writes_it(cuihu: SampleEstate, written: str) -> None:
    unit = estates.find_unit(session=cuihu.session, estate_id=cuihu.id, designation=written)
    assert unit.designation == "3-1-1204"


@pytest.mark.parametrize("written", ["", "1204", "9-1-101"])
def test_an_unknown_unit_is_a_clear_no(cuihu: SampleEstate, written: str) -> None:
    with pytest.raises(InvalidInput, match="房号"):
        estates.find_unit(session=cuihu.session, estate_id=cuihu.id, designation=written)
