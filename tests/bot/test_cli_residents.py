"""The commands a company starting on wuye runs: its roster in, a building's binding sheet
printed, a water-cut notice sent, the quarter's survey started, as the README shows them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli import app
from storage.config import load_settings
from storage.database import Database
from storage.identity.models import ChatIdentity, InviteCode
from storage.people.models import Person
from storage.survey.models import SurveyInvitation


@pytest.fixture
def wuye(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WUYE_DATABASE_URL", db_url)
    monkeypatch.setenv("WUYE_TELEGRAM_BOT_USERNAME", "cuihu_wuye_bot")
    runner = CliRunner()
    assert runner.invoke(app, ["run"]).exit_code == 0
    return runner


def database(db_url: str) -> Database:
    return Database(load_settings(database_url=db_url))


def test_a_roster_comes_in_with_its_bad_rows_named_and_again_changes_nothing(
    wuye: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "业主台账.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["楼栋", "单元", "房号", "姓名", "手机", "身份", "备用电话", "入住日期"])
        writer.writerow(["3", "1", "1203", "钱多多", "13700000001", "租户", "", "2024-03-02"])
        writer.writerow(["3", "1", "1202", "孙小美", "13700000002", "业主", "02155550000", ""])
        writer.writerow(["3", "1", "9999", "无此房", "13700000003", "业主", "", ""])
    first = wuye.invoke(app, ["residents", "import", str(path), "--estate", "cuihu"])
    assert first.exit_code == 3, first.output  # imported, but not all: a script can tell
    assert "新增 2，更新 0，未变 0，未能导入 1" in first.output
    assert "第 4 行：本小区没有房号 3-1-9999" in first.output
    again = wuye.invoke(app, ["residents", "import", str(path), "--estate", "cuihu"])
    assert "新增 0，更新 0，未变 2，未能导入 1" in again.output

    listed = wuye.invoke(
        app, ["residents", "list", "--estate", "cuihu", "--building", "3", "--json"]
    )
    rows = json.loads(listed.output)
    assert {(r["unit"], r["name"], r["relation"], r["bound"]) for r in rows} >= {
        ("3-1-1203", "钱多多", "tenant", False),
        ("3-1-1202", "孙小美", "owner", False),
    }
    added = wuye.invoke(
        app,
        [
            "residents",
            "add",
            "--estate",
            "cuihu",
            "--unit",
            "3-1-1201",
            "--name",
            "周一",
            "--phone",
            "13700000004",
            "--relation",
            "家属",
        ],
    )
    assert "added: 周一 → 3-1-1201" in added.output
    moved = wuye.invoke(
        app,
        ["residents", "move-out", "--estate", "cuihu", "--unit", "3-1-1203", "--name", "钱多多"],
    )
    assert moved.exit_code == 0, moved.output
    vacant = wuye.invoke(
        app, ["residents", "unit-state", "--estate", "cuihu", "--unit", "3-1-1203", "空置"]
    )
    assert "3-1-1203: 空置" in vacant.output


def test_invite_writes_a_qr_code_and_a_buildings_binding_sheet(
    wuye: CliRunner, tmp_path: Path, db_url: str
) -> None:
    db = database(db_url)
    with db.session() as s:
        before = s.scalar(select(func.count(InviteCode.id))) or 0  # `wuye run`'s try-it codes
    one = wuye.invoke(
        app, ["invite", "--estate", "cuihu", "--phone", "13800138003", "--qr", "li.png"]
    )
    assert one.exit_code == 0, one.output
    code = one.output.split(":")[1].split()[0]
    assert f"https://t.me/cuihu_wuye_bot?start={code}" in one.output
    assert (tmp_path / "li.png").read_bytes().startswith(b"\x89PNG")

    sheet = wuye.invoke(
        app, ["invite", "--estate", "cuihu", "--building", "3", "--sheet", "3栋.pdf"]
    )
    assert sheet.exit_code == 0, sheet.output
    # 3-1-801 (赵敏) and 3-1-1204 (李强): a page each, a code each, valid a month.
    assert "3栋.pdf: 2 units, 2 codes (valid 30 days)" in sheet.output
    pdf = (tmp_path / "3栋.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 2
    with db.session() as s:
        assert s.scalar(select(func.count(InviteCode.id))) == before + 3
    db.dispose()
    no_building = wuye.invoke(
        app, ["invite", "--estate", "cuihu", "--building", "9", "--sheet", "9.pdf"]
    )
    assert "has no residents on file" in str(no_building.exception)


def test_a_water_cut_notice_is_sent_and_listed_with_its_counts(
    wuye: CliRunner, db_url: str
) -> None:
    db = database(db_url)
    with db.transaction() as s:
        li = s.scalars(select(Person).where(Person.name == "李强")).one()
        s.add(ChatIdentity(platform="telegram", external_id="li", person=li))
    db.dispose()
    sent = wuye.invoke(
        app,
        [
            "notice",
            "send",
            "--estate",
            "cuihu",
            "--kind",
            "water",
            "--building",
            "3",
            "--title",
            "3栋停水通知",
            "--text",
            "管网维修停水",
            "--until",
            "2099-12-05 18:00",
            "--emergency",
        ],
    )
    assert sent.exit_code == 0, sent.output
    assert "GG00001 已发送: 3栋停水通知 → 3栋" in sent.output
    assert "queued for 1 residents; 1 not bound" in sent.output
    listed = json.loads(wuye.invoke(app, ["notice", "list", "--estate", "cuihu", "--json"]).output)
    assert listed[0]["sent_at"] is not None
    assert listed[0] | {"send_at": None, "sent_at": None} == {
        "number": "GG00001",
        "kind": "water_outage",
        "title": "3栋停水通知",
        "audience": "3栋",
        "status": "sent",
        "emergency": True,
        "send_at": None,
        "ends_at": "2099-12-05 18:00",
        "sent_at": None,
        "ended_at": None,
        "residents": 2,
        "delivered": 0,
        "waiting": 1,
        "failed": 0,
        "not_bound": 1,
        "received": 0,
    }
    outage_without_end = wuye.invoke(
        app,
        [
            "notice",
            "send",
            "--estate",
            "cuihu",
            "--kind",
            "power",
            "--title",
            "停电",
            "--text",
            "x",
        ],
    )
    assert "要写明预计恢复时间" in str(outage_without_end.exception)


def test_the_quarters_survey_is_started_and_its_results_written(
    wuye: CliRunner, db_url: str, tmp_path: Path
) -> None:
    db = database(db_url)
    with db.transaction() as s:
        for n, name in enumerate(("张伟", "李强", "赵敏")):
            person = s.scalars(select(Person).where(Person.name == name)).one()
            s.add(ChatIdentity(platform="telegram", external_id=f"o{n}", person=person))
    started = wuye.invoke(app, ["survey", "start", "--estate", "cuihu", "--quarter", "2026Q4"])
    assert started.exit_code == 0, started.output
    assert "120 occupied households, 24 wanted, 4 asked in chat" in started.output
    assert "20 more are needed" in started.output
    with db.session() as s:
        assert s.scalar(select(func.count(SurveyInvitation.id))) == 4
    db.dispose()
    closed = wuye.invoke(app, ["survey", "close", "--estate", "cuihu", "--quarter", "2026Q4"])
    assert "2026Q4 closed: 0/4 answered" in closed.output
    results = wuye.invoke(
        app,
        [
            "survey",
            "results",
            "--estate",
            "cuihu",
            "--quarter",
            "2026Q4",
            "--xlsx",
            "q4.xlsx",
            "--json",
        ],
    )
    data = json.loads(results.output.split("workbook:")[0])
    assert (data["asked"], data["answered"], data["status"]) == (4, 0, "closed")
    assert (tmp_path / "q4.xlsx").exists()
