"""The ``wuye`` command as the desk uses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app, main
from storage.config import load_settings
from storage.database import Database
from storage.estate import service as estates
from storage.identity import service as identity
from storage.patrol import rounds
from storage.patrol import service as patrols
from storage.patrol.models import PatrolCategory, PatrolFinding, PatrolRound
from storage.people.models import Department, Person
from storage.ticket import repairs
from storage.ticket.models import RepairCategory
from tests.conftest import SAMPLE, local
from tests.servers import WUYE


@pytest.fixture
def wuye(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WUYE_DATABASE_URL", db_url)
    return CliRunner()


def test_run_sets_up_the_database_imports_the_sample_and_shows_it(wuye: CliRunner) -> None:
    first = wuye.invoke(app, ["run"])
    assert first.exit_code == 0, first.output
    assert "翠湖花园 (cuihu)" in first.output
    assert "房号 120" in first.output
    assert "G01  周师傅  工程部  工程维修" in first.output
    again = wuye.invoke(app, ["run"])
    assert again.exit_code == 0
    assert "nothing new" in again.output


def test_invite_prints_a_code_that_binds_the_staff_member(wuye: CliRunner, db_url: str) -> None:
    wuye.invoke(app, ["run"])
    result = wuye.invoke(app, ["invite", "--estate", "cuihu", "--staff", "G01"])
    assert result.exit_code == 0, result.output
    code = result.output.split(":")[1].split()[0]
    db = Database(load_settings(database_url=db_url))
    with db.transaction() as s:
        person = identity.redeem_invite(session=s, code=code, platform="telegram", external_id="7")
        assert person.name == "周师傅"
    db.dispose()


def test_read_commands_print_json(wuye: CliRunner, db_url: str) -> None:
    wuye.invoke(app, ["run"])
    db = Database(load_settings(database_url=db_url))
    with db.transaction() as s:
        estate = estates.get_estate(session=s, code="cuihu")
        owner = s.scalars(select(Person).where(Person.name == "张伟")).one()
        unit = estates.find_unit(session=s, estate_id=estate.id, designation="1-1-502")
        repairs.report_repair(
            session=s,
            actor=owner,
            unit_id=unit.id,
            category=RepairCategory.LIFT,
            description="电梯异响",
        )
    db.dispose()
    result = wuye.invoke(app, ["tickets", "list", "--estate", "cuihu", "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert row["status"] == "new"
    assert row["category_label"] == "电梯"
    assert row["where"] == "1-1-502"
    for command in (
        ["patrols", "list", "--json"],
        ["callbacks", "due", "--json", "--date", "2026-11-30"],
    ):
        listed = wuye.invoke(app, command)
        assert listed.exit_code == 0, listed.output
        assert json.loads(listed.output) == []


def _wuye(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WUYE), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


def test_a_bad_setting_stops_the_command_naming_the_variable(tmp_path: Path) -> None:
    result = _wuye(["db", "upgrade"], tmp_path, WUYE_CALLBACK_DAYS_OTHER="a week")
    assert result.returncode == 2
    assert "WUYE_CALLBACK_DAYS_OTHER" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_refused_request_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = _wuye(
        ["tickets", "list", "--estate", "nowhere"],
        tmp_path,
        WUYE_DATABASE_URL=f"sqlite:///{tmp_path}/w.db",
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "wuye: 没有编号为 nowhere 的项目"


def test_serve_with_no_platform_still_answers_healthz(tmp_path: Path) -> None:
    import httpx

    from tests.servers import free_port

    port = free_port()
    server = subprocess.Popen(  # the real command, as systemd would start it
        [str(WUYE), "serve", "--port", str(port)],
        cwd=tmp_path,
        env={**os.environ, "WUYE_DATABASE_URL": f"sqlite:///{tmp_path}/w.db"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:  # uvicorn says when it is ready; no polling, no sleep
            if "Application startup complete" in line:
                break
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.json() == {"ok": True, "telegram": False, "wechat": False, "wecom": False}
        assert httpx.post(f"http://127.0.0.1:{port}/telegram/webhook", json={}).status_code == 404
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_digest_is_a_dry_run_unless_sent_and_sent_once(wuye: CliRunner, db_url: str) -> None:
    wuye.invoke(app, ["run"])
    shown = wuye.invoke(app, ["digest", "--estate", "cuihu", "--date", "2026-11-24"])
    assert shown.exit_code == 0, shown.output
    assert "【每日汇总】翠湖花园 · 全部部门 2026-11-24\n" in shown.output
    assert "2026-11-24 汇总" in shown.output  # each department's counts
    sent = wuye.invoke(app, ["digest", "--date", "2026-11-24", "--send"])
    assert "翠湖花园: 6 digests queued" in sent.output
    again = wuye.invoke(app, ["digest", "--date", "2026-11-24", "--send"])
    assert "翠湖花园: 0 digests queued" in again.output


def test_report_monthly_writes_the_workbook_and_the_chart(wuye: CliRunner, tmp_path: Path) -> None:
    wuye.invoke(app, ["run"])
    result = wuye.invoke(
        app,
        [
            "report",
            "monthly",
            "--month",
            "2026-11",
            "--xlsx",
            str(tmp_path / "m.xlsx"),
            "--png",
            str(tmp_path / "m.png"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "【月度报告】翠湖花园 2026-11" in result.output
    assert (tmp_path / "m.xlsx").read_bytes()[:2] == b"PK"
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    bad = wuye.invoke(app, ["report", "monthly", "--month", "November"])
    assert bad.exit_code != 0


def test_patrols_export_writes_the_months_record_archived_findings_too(
    wuye: CliRunner, db_url: str, tmp_path: Path, at: time_machine.Traveller
) -> None:
    """November: 陈静's full patrol (客服全面巡查, Thursdays) finds 2栋's lobby dirty on the
    5th, 保洁部 cleans it, she verifies it; nobody walks it on the 12th; 刘洋 records the
    19th's late. A parking-garage lamp reported on the 20th is archived since. What was
    reported on 31 October or 1 December (local time: 30 November in UTC) is not November's."""
    wuye.invoke(app, ["run"])
    db = Database(load_settings(database_url=db_url))
    with db.transaction() as s:
        estate = estates.get_estate(session=s, code="cuihu")

        def person(name: str) -> Person:
            return s.scalars(select(Person).where(Person.name == name)).one()

        def department(code: str) -> int:
            return s.scalars(
                select(Department.id).where(
                    Department.estate_id == estate.id, Department.code == code
                )
            ).one()

        def report(
            place: str, category: PatrolCategory, what: str, to: str, photos: tuple[str, ...] = ()
        ) -> PatrolFinding:
            return patrols.report_finding(
                session=s,
                actor=person("陈静"),
                estate_id=estate.id,
                place=place,
                category=category,
                description=what,
                department_id=department(to),
                photos=photos,
            )

        full_patrol = s.scalars(
            select(PatrolRound).where(PatrolRound.estate_id == estate.id, PatrolRound.code == "QC")
        ).one()
        at.move_to(local(2026, 10, 31, 23, 30))
        report("东门", PatrolCategory.OTHER, "十月的", "zx")
        at.move_to(local(2026, 11, 5, 15, 0))
        dirty = report(
            "2栋大堂", PatrolCategory.CLEANLINESS, "地面有污渍", "bj", photos=("p/dirty.jpg",)
        )
        s.flush()
        rounds.record(
            session=s,
            actor=person("陈静"),
            round_id=full_patrol.id,
            checks=[rounds.Check("1栋", True), rounds.Check("2栋", False, finding_id=dirty.id)],
        )
        at.move_to(local(2026, 11, 6, 10, 0))
        patrols.fix(
            session=s,
            finding_id=dirty.id,
            actor=person("许阿姨"),
            note="已清洗",
            photos=["p/clean.jpg"],
        )
        at.move_to(local(2026, 11, 6, 15, 0))
        patrols.verify(
            session=s, finding_id=dirty.id, actor=person("陈静"), passed=True, note="干净了"
        )
        rounds.mark_missed(
            session=s, patrol_round=full_patrol, day=date(2026, 11, 12), now=local(2026, 11, 12, 17)
        )
        rounds.mark_missed(
            session=s, patrol_round=full_patrol, day=date(2026, 11, 19), now=local(2026, 11, 19, 17)
        )
        at.move_to(local(2026, 11, 19, 18, 30))
        rounds.record(
            session=s,
            actor=person("刘洋"),
            round_id=full_patrol.id,
            checks=[rounds.Check("中心花园", True)],
        )
        at.move_to(local(2026, 11, 20, 9, 0))
        lamp = report("地下车库", PatrolCategory.PUBLIC_FACILITY, "照明灯不亮", "gc")
        lamp.archived_at = local(2028, 11, 21, 3, 0)  # as the retention job would, two years on
        assert lamp not in patrols.list_findings(session=s, estate_id=estate.id)
        at.move_to(local(2026, 12, 1, 0, 10))
        report("北门", PatrolCategory.OTHER, "十二月的", "zx")
        numbers = (dirty.number, lamp.number)
    db.dispose()

    at.move_to(local(2026, 12, 1, 9, 0))
    path = tmp_path / "patrols.xlsx"
    result = wuye.invoke(
        app, ["patrols", "export", "--month", "2026-11", "--xlsx", str(path), "--estate", "cuihu"]
    )
    assert result.exit_code == 0, result.output
    assert f"翠湖花园: 2 findings, 3 round visits → workbook: {path}" in result.output
    book = load_workbook(path)
    assert book.sheetnames == ["公共区域巡检记录表", "巡查问题处理表", "巡检记录", "巡检覆盖"]
    record = list(book["公共区域巡检记录表"].iter_rows(values_only=True))
    assert record[0] == (
        *("编号", "发现时间", "地点", "类别", "问题描述", "发现人", "责任部门", "整改期限"),
        *("整改情况", "整改人", "整改时间", "验证结果", "验证人", "验证时间", "验证意见"),
        *("状态", "照片数"),
    )
    assert record[1:] == [
        (
            *(numbers[0], "2026-11-05 15:00", "2栋大堂", "清洁卫生", "地面有污渍", "陈静"),
            *("保洁部", "2026-11-12", "已清洗", "许阿姨", "2026-11-06 10:00"),
            *("通过", "陈静", "2026-11-06 15:00", "干净了", "已验证", 2),
        ),
        (
            *(numbers[1], "2026-11-20 09:00", "地下车库", "公共设施设备", "照明灯不亮", "陈静"),
            *("工程部", "2026-11-27", "—", "—", "—", "—", "—", "—", "—", "待整改", 0),
        ),
    ]
    trail = list(book["巡查问题处理表"].iter_rows(values_only=True))
    assert trail == [
        ("编号", "时间", "操作人", "从", "到", "说明"),
        (numbers[0], "2026-11-05 15:00", "陈静", "—", "待整改", "巡查发现：清洁卫生"),
        (numbers[0], "2026-11-06 10:00", "许阿姨", "待整改", "待验证", "已清洗"),
        (numbers[0], "2026-11-06 15:00", "陈静", "待验证", "已验证", "验证通过：干净了"),
        (numbers[1], "2026-11-20 09:00", "陈静", "—", "待整改", "巡查发现：公共设施设备"),
    ]
    visits = list(book["巡检记录"].iter_rows(values_only=True))
    assert visits == [
        ("日期", "巡检", "类别", "巡检人", "登记时间", "状态", "区域数", "有问题项"),
        (
            *("2026-11-05", "客服全面巡查", "客服全面巡查", "陈静", "2026-11-05 15:00"),
            *("已完成", 2, f"2栋（{numbers[0]}）"),
        ),
        ("2026-11-12", "客服全面巡查", "客服全面巡查", "—", "—", "未完成", 0, None),
        ("2026-11-19", "客服全面巡查", "客服全面巡查", "刘洋", "2026-11-19 18:30", "补登", 1, None),
    ]
    covered = {row[0]: row[1:] for row in book["巡检覆盖"].iter_rows(min_row=2, values_only=True)}
    assert set(covered) == {"日检", "周检", "巡检", "客服全面巡查", "主管抽查", "经理复查"}
    # Four Thursdays: walked on the 5th and (late) the 19th, missed the 12th and the 26th.
    assert covered["客服全面巡查"] == (4, 2, 1, 2, 1)
    assert covered["巡检"] == (5, 0, 0, 5, 0)  # five Mondays, none recorded
    bad = wuye.invoke(app, ["patrols", "export", "--month", "Nov", "--xlsx", str(path)])
    assert bad.exit_code != 0


def test_report_weekly_prints_the_week_and_writes_its_workbook(
    wuye: CliRunner, tmp_path: Path
) -> None:
    wuye.invoke(app, ["run"])
    result = wuye.invoke(
        app, ["report", "weekly", "--week", "2026-W48", "--xlsx", str(tmp_path / "w.xlsx")]
    )
    assert result.exit_code == 0, result.output
    assert "【周报】翠湖花园 2026-W48（2026-11-23 起）" in result.output
    assert "投诉：本周新增 0，本周答复 0，仍未答复 0" in result.output
    assert (tmp_path / "w.xlsx").read_bytes()[:2] == b"PK"
    bad = wuye.invoke(app, ["report", "weekly", "--week", "last week"])
    assert bad.exit_code != 0
    assert "2026-W49" in bad.output


def test_jobs_run_is_a_dry_run_unless_sent(wuye: CliRunner, db_url: str) -> None:
    wuye.invoke(app, ["db", "upgrade"])
    wuye.invoke(app, ["estate", "import", str(SAMPLE)])
    listed = wuye.invoke(app, ["jobs", "list"])
    assert "daily_digests" in listed.output
    assert "monthly_reports" in listed.output
    dry = wuye.invoke(app, ["jobs", "run", "quality_sample"])
    assert dry.exit_code == 0, dry.output
    assert "(dry run: nothing kept; --send to queue)" in dry.output
    assert wuye.invoke(app, ["jobs", "run", "nonsense"]).exit_code != 0


def test_a_malformed_estate_file_is_one_line_naming_the_file(
    wuye: CliRunner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for written, problem in (
        ("estate: {code: x, name: y\n", "不是有效的 YAML"),
        ("- just\n- a list {of: things}\n", "不是有效的项目文件"),
        ("estate: {code: x, name: y}\nstaff: [{code: '{K}'}]\n", "不是有效的项目文件"),
    ):
        path = tmp_path / "estate.yaml"
        path.write_text(written, encoding="utf-8")
        with pytest.raises(SystemExit) as ended:
            main(["estate", "import", str(path)])
        assert ended.value.code == 1
        [line] = capsys.readouterr().err.strip().splitlines()
        assert line.startswith(f"wuye: {path}")
        assert problem in line


PACKAGES = ("bot", "conversations", "scheduler", "storage")


def test_wuye_runs_from_its_wheel_without_the_checkout(tmp_path: Path) -> None:
    """What a wheel (or the Docker image) installs is enough: migrations, catalogs and the
    sample estate are package data, found without the source tree."""
    import shutil

    source = tmp_path / "source"
    root = Path(__file__).resolve().parents[2]
    for package in PACKAGES:
        shutil.copytree(
            root / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, source / name)
    built = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"),
            *("-w", str(tmp_path / "dist"), str(source)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("wuye-*.whl")
    installed = tmp_path / "installed"
    shutil.unpack_archive(wheel, installed, format="zip")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bot; assert bot.__file__.startswith(sys.argv[1]), bot.__file__; "
            "from bot.cli import main; main(sys.argv[2:])",
            str(installed),
            "run",
        ],
        input="报修\n/quit\n",
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(installed), "WUYE_DATABASE_URL": "sqlite:///w.db"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "imported sample-estate.yaml" in result.stdout
    assert "/user desk then bind with code " in result.stdout
    assert "请先绑定身份" in result.stdout  # the console chat answered, in Chinese
