"""``wuye person``: a person's copy of what is held about them, and their erasure; and the
desk's read-outs, which show owners' numbers masked."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from storage.audit import service as audit
from storage.config import load_settings
from storage.database import Database
from storage.errors import NotFound
from storage.estate import service as estates
from storage.people.models import Person, StaffMember
from storage.ticket import lifecycle, repairs
from storage.ticket.models import RepairCategory
from tests.conftest import SAMPLE


@pytest.fixture
def wuye(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WUYE_DATABASE_URL", db_url)
    runner = CliRunner()
    for command in (["db", "upgrade"], ["estate", "import", str(SAMPLE)]):
        assert runner.invoke(app, command).exit_code == 0
    return runner


def _repaired(db_url: str) -> tuple[str, int]:
    """张伟's burst pipe, reported, done by 周师傅, its callback waiting: its number, and
    张伟's id."""
    db = Database(load_settings(database_url=db_url))
    with db.transaction() as s:
        estate = estates.get_estate(session=s, code="cuihu")
        owner = s.scalars(select(Person).where(Person.name == "张伟")).one()
        desk = s.scalars(select(Person).where(Person.name == "陈静")).one()
        tech = s.scalars(select(StaffMember).join(Person).where(Person.name == "周师傅")).one()
        ticket = repairs.report_repair(
            session=s,
            actor=owner,
            unit_id=estates.find_unit(session=s, estate_id=estate.id, designation="1-1-502").id,
            category=RepairCategory.PLUMBING,
            description="厨房水管爆了，家里有老人",
        )
        repairs.dispatch_repair(session=s, ticket_id=ticket.id, actor=desk, assignee_id=tech.id)
        lifecycle.accept(session=s, ticket_id=ticket.id, actor=tech.person)
        repairs.finish_repair(session=s, ticket_id=ticket.id, actor=tech.person, note="已更换")
        number, owner_id = ticket.number, owner.id
    db.dispose()
    return number, owner_id


def _trail(db_url: str, person_id: int) -> list[tuple[str, str | None]]:
    """The lines of a person's own trail (exported, forgotten), with their notes."""
    db = Database(load_settings(database_url=db_url))
    with db.transaction() as s:
        lines = [
            (e.to_state, e.note)
            for e in audit.history(session=s, object_type="person", object_id=person_id)
        ]
    db.dispose()
    return lines


def test_export_writes_everything_about_him_to_a_file_only_he_may_read(
    wuye: CliRunner, db_url: str, tmp_path: Path
) -> None:
    number, zhang = _repaired(db_url)
    out = tmp_path / "zhang.json"
    result = wuye.invoke(app, ["person", "export", "--phone", "138 0013 8001", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text(encoding="utf-8"))
    assert (data["person"]["name"], data["person"]["phone"]) == ("张伟", "13800138001")
    [ticket] = data["tickets"]
    assert (ticket["number"], ticket["description"]) == (number, "厨房水管爆了，家里有老人")
    printed = wuye.invoke(app, ["person", "export", "--phone", "13800138001"])
    assert json.loads(printed.output)["person"]["name"] == "张伟"
    [(state, note), _] = _trail(db_url, zhang)
    assert state == "exported"
    assert note is not None
    assert note.startswith("个人信息导出（命令行")


def test_forget_asks_first_then_leaves_an_anonymous_owner_and_a_line_in_his_trail(
    wuye: CliRunner, db_url: str
) -> None:
    number, zhang = _repaired(db_url)
    declined = wuye.invoke(app, ["person", "forget", "--phone", "13800138001"], input="n\n")
    assert declined.exit_code != 0
    assert "张伟 (138****8001" in declined.output
    assert _trail(db_url, zhang) == []  # nothing happened
    result = wuye.invoke(app, ["person", "forget", "--phone", "13800138001", "--yes"])
    assert result.exit_code == 0, result.output
    assert f"is now 已注销业主#{zhang}" in result.output
    assert [state for state, _ in _trail(db_url, zhang)] == ["forgotten"]
    listed = wuye.invoke(app, ["tickets", "list", "--json"])
    [row] = json.loads(listed.output)
    assert (row["number"], row["reporter"]) == (number, f"已注销业主#{zhang}")
    again = wuye.invoke(app, ["person", "export", "--phone", "13800138001"])
    assert isinstance(again.exception, NotFound)  # `wuye` prints it as one line


def test_the_callbacks_read_out_masks_the_owners_number(wuye: CliRunner, db_url: str) -> None:
    number, _ = _repaired(db_url)
    result = wuye.invoke(app, ["callbacks", "due", "--json", "--date", "2030-01-01"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert (row["ticket"], row["owner"], row["phone"]) == (number, "张伟", "138****8001")
    assert "13800138001" not in result.output
