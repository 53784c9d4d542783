"""``wuye residents …``: the company's owner roster (业主台账) brought in and kept current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import unit_of_work
from bot.cli.person import operator
from storage.estate import service as estates
from storage.estate.models import UNIT_STATE_LABELS
from storage.people import roster
from storage.people.models import RELATION_LABELS

residents_app = typer.Typer(
    help="Residents: import the company's roster (业主台账), add, move out, list.",
    no_args_is_help=True,
)

EstateCode = Annotated[str, typer.Option("--estate", help="Estate code.")]
UnitOption = Annotated[str, typer.Option("--unit", help="The unit, e.g. 3-1-1204.")]


@residents_app.command("import")
def residents_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    estate: EstateCode,
) -> None:
    """Read a roster (.xlsx or .csv: 楼栋, 单元, 房号 or a whole room number, 姓名, 手机, 身份
    业主/家属/租户, 备用电话, 入住日期, 房屋状态). Idempotent: a resident is known in a unit by
    name, so a second run changes nothing and a changed phone updates. Each row it cannot
    use is printed with why; the rest are imported."""
    records = roster.read_file(file)
    rows, problems = roster.parse(records)
    with unit_of_work() as (session, _):
        estate_row = estates.get_estate(session=session, code=estate)
        result = roster.import_roster(
            session=session,
            estate_id=estate_row.id,
            rows=rows,
            actor=None,
            by=f"{operator()} 导入 {file.name}",
        )
    result.problems = sorted(problems + result.problems, key=lambda problem: problem.line)
    typer.echo(f"{file.name}：{result.summary()}")
    for problem in result.problems:
        typer.echo(f"  第 {problem.line} 行：{problem.reason}")
    if result.problems:
        raise typer.Exit(3)  # imported, but not all of it: a script notices


@residents_app.command("add")
def residents_add(
    estate: EstateCode,
    unit: UnitOption,
    name: Annotated[str, typer.Option("--name", help="姓名")],
    phone: Annotated[str, typer.Option("--phone", help="手机号 (11 digits)")],
    relation: Annotated[str, typer.Option("--relation", help="业主 / 家属 / 租户")] = "业主",
    alt_phone: Annotated[str | None, typer.Option("--alt-phone", help="备用电话")] = None,
) -> None:
    """Add a resident to a unit (a new owner, family member or tenant)."""
    with unit_of_work() as (session, _):
        estate_row = estates.get_estate(session=session, code=estate)
        found = estates.find_unit(session=session, estate_id=estate_row.id, designation=unit)
        person = roster.add_resident(
            session=session,
            unit=found,
            name=name,
            phone=phone,
            relation=roster.relation_named(relation),
            alt_phone=alt_phone,
            actor=None,
            by=operator(),
        )
        typer.echo(f"added: {person.name} → {found.designation}")


@residents_app.command("move-out")
def residents_move_out(
    estate: EstateCode,
    unit: UnitOption,
    name: Annotated[str, typer.Option("--name", help="The resident's name in that unit.")],
) -> None:
    """Record that a resident no longer lives in a unit. Their tickets stay; their chat
    account no longer reports for the unit."""
    with unit_of_work() as (session, _):
        estate_row = estates.get_estate(session=session, code=estate)
        found = estates.find_unit(session=session, estate_id=estate_row.id, designation=unit)
        residency = roster.resident(session=session, unit=found, name=name)
        roster.move_out(session=session, residency=residency, actor=None, by=operator())
        typer.echo(f"moved out: {name} ← {found.designation}")


@residents_app.command("unit-state")
def residents_unit_state(
    estate: EstateCode,
    unit: UnitOption,
    state: Annotated[str, typer.Argument(help="已入住 / 空置 / 装修中")],
) -> None:
    """Whether a unit is lived in: the survey draws occupied households only."""
    with unit_of_work() as (session, _):
        estate_row = estates.get_estate(session=session, code=estate)
        found = estates.find_unit(session=session, estate_id=estate_row.id, designation=unit)
        wanted = roster.unit_state_named(state)
        if found.state is not wanted:
            roster.set_unit_state(
                session=session, unit=found, state=wanted, actor=None, by=operator()
            )
        typer.echo(f"{found.designation}: {UNIT_STATE_LABELS[wanted]}")


@residents_app.command("list")
def residents_list(
    estate: EstateCode,
    building: Annotated[str | None, typer.Option("--building", help="One building.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The roster as it stands, by unit, with whether each resident has bound a chat."""
    with unit_of_work() as (session, _):
        estate_row = estates.get_estate(session=session, code=estate)
        lines = roster.list_residents(session=session, estate_id=estate_row.id, building=building)
    rows = [
        {
            "unit": line.unit,
            "unit_state": line.unit_state.value,
            "name": line.name,
            "phone": line.phone,
            "relation": line.relation.value,
            "alt_phone": line.alt_phone,
            "moved_in_on": line.moved_in_on.isoformat() if line.moved_in_on else None,
            "bound": line.bound,
        }
        for line in lines
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for line in lines:
        typer.echo(
            f"{line.unit}  {line.name}  {RELATION_LABELS[line.relation]}  {line.phone or '—'}"
            f"  {'已绑定' if line.bound else '未绑定'}"
        )
    typer.echo(f"共 {len(lines)} 位住户，已绑定 {sum(line.bound for line in lines)} 位")
