"""Administration: the database, estates and their people, binding codes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import invites
from bot.cli.common import database, unit_of_work
from storage.clock import local_date, utcnow
from storage.errors import InvalidInput
from storage.estate import importer
from storage.estate import service as estates
from storage.estate.models import Building, Estate, Unit
from storage.identity import service as identity
from storage.patrol import service as patrols
from storage.patrol.models import FindingStatus
from storage.people import privacy, roster
from storage.people import service as people
from storage.people.models import RELATION_LABELS, ROLE_LABELS, Person, Residency, StaffMember
from storage.ticket import queries

db_app = typer.Typer(help="The database.", no_args_is_help=True)
estate_app = typer.Typer(
    help="Estates, their buildings, units, residents and staff.", no_args_is_help=True
)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (also done at every start)."""
    with database(upgrade=False) as db:
        db.upgrade()
        typer.echo(f"database is up to date: {db.engine.url.render_as_string(hide_password=True)}")


def imported(path: Path, created: Counter[str]) -> str:
    """What an import created, in one line."""
    summary = ", ".join(f"{what}: {n}" for what, n in sorted(created.items()))
    return f"imported {path.name}: " + (summary + " created" if summary else "nothing new")


@estate_app.command("import")
def estate_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Create or update an estate from a YAML file (idempotent)."""
    data = importer.read(file)
    with unit_of_work() as (session, _):
        created = importer.import_estate(session=session, data=data, source=str(file))
        typer.echo(imported(file, created))


def describe(session: Session) -> str:
    lines: list[str] = []
    for estate in session.scalars(select(Estate).order_by(Estate.code)):
        units = session.scalar(
            select(func.count(Unit.id)).join(Building).where(Building.estate_id == estate.id)
        )
        residents = session.scalar(
            select(func.count(func.distinct(Residency.person_id)))
            .join(Unit, Residency.unit_id == Unit.id)
            .join(Building)
            .where(Building.estate_id == estate.id)
        )
        lines.append(f"{estate.name} ({estate.code})")
        lines.append(f"  楼栋 {len(estate.buildings)}，房号 {units}，住户 {residents}")
        staff = session.scalars(
            select(StaffMember)
            .where(StaffMember.estate_id == estate.id)
            .order_by(StaffMember.staff_code)
        ).all()
        for member in staff:
            lines.append(
                f"  {member.staff_code}  {member.person.name}  {member.department.name}"
                f"  {ROLE_LABELS[member.role]}"
            )
        open_tickets = len(
            queries.list_tickets(session=session, estate_id=estate.id, open_only=True)
        )
        open_findings = len(
            patrols.list_findings(session=session, estate_id=estate.id, status=FindingStatus.OPEN)
        )
        lines.append(f"  未结工单 {open_tickets}，待整改巡查问题 {open_findings}")
    return "\n".join(lines) if lines else "no estate yet: wuye estate import FILE.yaml"


@estate_app.command("show")
def estate_show() -> None:
    """Print every estate: buildings, units, residents, staff, open work."""
    with unit_of_work() as (session, _):
        typer.echo(describe(session))


def invite(
    estate: Annotated[str, typer.Option("--estate", help="Estate code.")],
    staff: Annotated[str | None, typer.Option(help="Staff code (工号).")] = None,
    phone: Annotated[str | None, typer.Option(help="A resident's phone on file.")] = None,
    qr: Annotated[
        Path | None,
        typer.Option("--qr", help="Also write the code as a QR code (PNG) to this file."),
    ] = None,
    building: Annotated[
        str | None, typer.Option("--building", help="Every resident of a building (--sheet).")
    ] = None,
    sheet: Annotated[
        Path | None,
        typer.Option("--sheet", help="With --building: a PDF, one page of codes per unit."),
    ] = None,
) -> None:
    """Issue a one-time binding code for a staff member or a resident; or, for a binding
    campaign, a PDF with one page of codes per unit of a building, each page for that unit's
    mailbox (a code binds whoever holds it: the pages are not for the notice board). A code
    binds at once, sent as a first message, from the Telegram link or by scanning the WeChat
    QR code."""
    if building is not None or sheet is not None:
        if building is None or sheet is None or staff is not None or phone is not None:
            raise typer.BadParameter("a sheet needs --building and --sheet, and no --staff/--phone")
        _invite_sheet(estate, building, sheet)
        return
    if (staff is None) == (phone is None):
        raise typer.BadParameter("give exactly one of --staff or --phone")
    with database() as db, db.transaction() as session:
        settings = db.settings
        estate_row = estates.get_estate(session=session, code=estate)
        person: Person | None
        if staff is not None:
            member = people.staff_by_code(session=session, estate_id=estate_row.id, code=staff)
            person = member.person if member is not None else None
        else:
            person = people.resident_by_phone(
                session=session, estate_id=estate_row.id, phone=phone or ""
            )
        if person is None:
            raise InvalidInput("no such staff member or resident in this estate")
        code = identity.create_invite(session=session, person=person, estate_id=estate_row.id)
        said = [f"{person.name}: {code}  (valid {settings.invite_valid_days} days, once)"]
        if qr is not None:
            # The QR code first: a code is printed only once it exists (a failure here rolls
            # it back, and a printed code that binds nobody would be handed out).
            found = invites.scannable(settings, db, code, settings.invite_valid_days)
            if found.telegram is None and found.wechat is None:
                raise InvalidInput(
                    "no QR code without a platform: set WUYE_TELEGRAM_BOT_USERNAME (or "
                    "WUYE_TELEGRAM_TOKEN) or WeChat's app id and secret"
                )
            said += [f"  {link}" for link in filter(None, (found.telegram, found.wechat))]
            said += [f"written: {written}" for written in invites.qr_files(found, qr)]
        session.flush()  # the code is stored before it is printed
        for line in said:
            typer.echo(line)


def _invite_sheet(estate: str, building: str, sheet: Path) -> None:
    with database() as db, db.transaction() as session:
        settings = db.settings
        days = settings.invite_sheet_valid_days
        estate_row = estates.get_estate(session=session, code=estate)
        lines = roster.list_residents(session=session, estate_id=estate_row.id, building=building)
        if not lines:
            raise InvalidInput(
                "building {building} of {estate} has no residents on file",
                building=building,
                estate=estate,
            )
        pages: dict[str, list[invites.SheetEntry]] = {}
        for line in lines:
            if line.bound:
                continue  # already bound: nothing to hand out
            person = people.get_person(session=session, person_id=line.person_id)
            code = identity.create_invite(
                session=session, person=person, estate_id=estate_row.id, valid_days=days
            )
            pages.setdefault(line.unit, []).append(
                invites.SheetEntry(
                    name=privacy.mask_name(line.name),
                    relation=RELATION_LABELS[line.relation],
                    found=invites.scannable(settings, db, code, days),
                )
            )
        valid_until = local_date(utcnow(), settings.tz) + timedelta(days=days)
        invites.write_sheet(
            [invites.SheetPage(unit, entries) for unit, entries in pages.items()],
            sheet,
            estate=estate_row.name,
            valid_until=valid_until,
        )
        codes = sum(len(entries) for entries in pages.values())
        bound = sum(line.bound for line in lines)
        typer.echo(
            f"written: {sheet}: {len(pages)} units, {codes} codes (valid {days} days); "
            f"{bound} residents already bound"
        )
