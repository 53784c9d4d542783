"""The ``wuye`` command: the database, estates, invites, and read-outs for the desk."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.console import Console
from conversations.engine import Engine
from conversations.flows import FLOWS
from storage import i18n
from storage.callback import service as callbacks
from storage.callback.models import Callback
from storage.clock import format_day, format_local, local_date, utcnow
from storage.config import Settings, SettingsError, load_settings
from storage.database import Database
from storage.errors import DomainError, InvalidInput
from storage.estate import importer
from storage.estate import service as estates
from storage.estate.models import Building, Estate, Unit
from storage.identity import service as identity
from storage.identity.models import Platform
from storage.outbox.models import OutboxMessage
from storage.patrol import service as patrols
from storage.patrol.models import FINDING_STATUS_LABELS, PATROL_CATEGORY_LABELS, FindingStatus
from storage.people import service as people
from storage.people.models import ROLE_LABELS, Person, Residency, StaffMember
from storage.ticket import service as tickets
from storage.ticket.models import SEVERITY_LABELS, STATUS_LABELS, Ticket, TicketKind

SAMPLE_ESTATE = Path(__file__).resolve().parent.parent / "deploy" / "sample-estate.yaml"

app = typer.Typer(
    help="wuye 物业: the property-management service desk in chat.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
estate_app = typer.Typer(
    help="Estates, their buildings, units, residents and staff.", no_args_is_help=True
)
tickets_app = typer.Typer(help="Repair requests and complaints.", no_args_is_help=True)
patrols_app = typer.Typer(help="Patrol findings.", no_args_is_help=True)
callbacks_app = typer.Typer(help="Satisfaction callbacks.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(estate_app, name="estate")
app.add_typer(tickets_app, name="tickets")
app.add_typer(patrols_app, name="patrols")
app.add_typer(callbacks_app, name="callbacks")

EstateOption = Annotated[str | None, typer.Option("--estate", help="Estate code; all if omitted.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _settings() -> Settings:
    return load_settings()


@contextmanager
def _database(*, upgrade: bool = True) -> Iterator[Database]:
    db = Database(_settings())
    try:
        if upgrade:
            db.upgrade()
        yield db
    finally:
        db.dispose()


@contextmanager
def _unit_of_work(*, upgrade: bool = True) -> Iterator[tuple[Session, Settings]]:
    with _database(upgrade=upgrade) as db, db.transaction() as session:
        yield session, db.settings


def _estate_id(session: Session, code: str | None) -> int | None:
    return estates.get_estate(session=session, code=code).id if code else None


def _emit(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("（无）")
        return
    for row in rows:
        typer.echo("  ".join(str(row[c]) if row[c] is not None else "—" for c in columns))


# ---------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (also done at every start)."""
    with _database(upgrade=False) as db:
        db.upgrade()
        typer.echo(f"database is up to date: {db.engine.url.render_as_string(hide_password=True)}")


# ---------------------------------------------------------------- estates


def _import(session: Session, path: Path) -> str:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None
    created = importer.import_estate(session=session, data=data)
    summary = ", ".join(f"{what}: {n}" for what, n in sorted(created.items()))
    return f"imported {path.name}: " + (summary + " created" if summary else "nothing new")


@estate_app.command("import")
def estate_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Create or update an estate from a YAML file (idempotent)."""
    with _unit_of_work() as (session, _):
        typer.echo(_import(session, file))


def _describe(session: Session) -> str:
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
            tickets.list_tickets(session=session, estate_id=estate.id, open_only=True)
        )
        open_findings = len(
            patrols.list_findings(session=session, estate_id=estate.id, status=FindingStatus.OPEN)
        )
        lines.append(f"  未结工单 {open_tickets}，待整改巡查问题 {open_findings}")
    return "\n".join(lines) if lines else "no estate yet: wuye estate import FILE.yaml"


@estate_app.command("show")
def estate_show() -> None:
    """Print every estate: buildings, units, residents, staff, open work."""
    with _unit_of_work() as (session, _):
        typer.echo(_describe(session))


def _chat(db: Database, user: str, *, interactive: bool, clock: bool = False) -> None:
    """The console chat. Notices for console users print in the terminal after each line;
    with ``clock`` the scheduler runs beside it, as in `wuye serve`."""
    import asyncio

    from bot.dispatcher import Dispatcher
    from conversations.messages import Reply
    from scheduler.clock import Clock

    async def show(chat_id: str, reply: Reply) -> None:
        typer.echo(f"  [通知 → {chat_id}] " + reply.text.replace("\n", "\n    "))
        for image in reply.images:
            typer.echo(f"    [图片] {image}")

    dispatcher = Dispatcher(db, {Platform.CONSOLE: show})
    console = Console(Engine(db, FLOWS), user, after=lambda: asyncio.run(dispatcher.run_once()))
    ticking = Clock(db) if clock else None
    if ticking is not None:
        ticking.start()
    try:
        if not interactive:
            console.run(sys.stdin)
            return

        def lines() -> Iterator[str]:
            while True:
                try:
                    yield input(f"[{console.user}] > ")
                except EOFError:
                    return

        console.run(lines())
    finally:
        if ticking is not None:
            ticking.stop()


@app.command("chat")
def chat(
    user: Annotated[str, typer.Option(help="The chat identity to talk as.")] = "demo",
) -> None:
    """Talk to wuye in the terminal; with stdin not a terminal, one message per line."""
    with _database() as db:
        _chat(db, user, interactive=sys.stdin.isatty())


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL for > 1).")] = 1,
) -> None:
    """The web server every configured platform's webhook comes to, with /healthz."""
    import uvicorn

    from bot import logs

    logs.configure(json=True)
    settings = _settings()
    if workers > 1 and not settings.database_url.startswith("postgresql"):
        raise typer.BadParameter("several workers need PostgreSQL (WUYE_DATABASE_URL)")
    with _database() as db:  # migrate once, before any worker starts
        db.upgrade()
    uvicorn.run(
        "bot.web:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
    )


@app.command("poll")
def poll() -> None:
    """Telegram by long polling, for a company with no public address."""
    import asyncio
    import signal

    from bot import logs
    from bot.web import Wuye
    from bot.web import poll as poll_telegram

    logs.configure(json=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await poll_telegram(Wuye.from_settings(_settings()), stop)

    asyncio.run(main())


wechat_app = typer.Typer(help="The WeChat Official Account.", no_args_is_help=True)
app.add_typer(wechat_app, name="wechat")


@wechat_app.command("menu")
def wechat_menu() -> None:
    """Create the account's custom menu: 报修 / 投诉 / 我的工单 as click events."""
    from bot.wechat.api import WechatApi
    from bot.wechat.wire import MENU

    with _database() as db:
        api = WechatApi(db.settings, db)
        api.menu.create(
            {"button": [{"type": "click", "name": name, "key": key} for key, name in MENU]}
        )
    typer.echo("menu created: " + " / ".join(name for _, name in MENU))


wecom_app = typer.Typer(help="WeCom (企业微信) for staff notices.", no_args_is_help=True)
app.add_typer(wecom_app, name="wecom")


@wecom_app.command("link")
def wecom_link(
    estate: Annotated[str, typer.Option("--estate", help="Estate code.")],
    staff: Annotated[str, typer.Option(help="Staff code (工号).")],
    userid: Annotated[str, typer.Option(help="The member's WeCom user id.")],
) -> None:
    """Send a staff member's notices to their WeCom account."""
    with _unit_of_work() as (session, _):
        estate_row = estates.get_estate(session=session, code=estate)
        member = session.scalar(
            select(StaffMember).where(
                StaffMember.estate_id == estate_row.id, StaffMember.staff_code == staff
            )
        )
        if member is None:
            raise InvalidInput("no such staff member in this estate")
        identity.link_account(
            session=session, person=member.person, platform=Platform.WECOM, external_id=userid
        )
        typer.echo(f"{member.person.name}: notices go to WeCom user {userid}")


@app.command("run")
def run(
    sample: Annotated[Path, typer.Option(help="Estate file imported at start.")] = SAMPLE_ESTATE,
    user: Annotated[str, typer.Option(help="The chat identity to start as.")] = "owner",
) -> None:
    """Set up the database with the sample estate and start the console chat."""
    with _database() as db:
        with db.transaction() as session:
            typer.echo(
                f"wuye: database {db.settings.database_url}, time zone {db.settings.timezone}"
            )
            typer.echo(_import(session, sample))
            typer.echo(_describe(session))
            hints = _try_it(session)
        typer.echo(hints)
        _chat(db, user, interactive=sys.stdin.isatty(), clock=True)


def _try_it(session: Session) -> str:
    """How a newcomer tries the sample estate: who to be, and fresh codes to bind staff."""
    estate = estates.list_estates(session=session)[0]
    codes = {}
    for staff_code in ("K01", "G01"):
        member = session.scalar(
            select(StaffMember).where(
                StaffMember.estate_id == estate.id, StaffMember.staff_code == staff_code
            )
        )
        if member is not None:
            codes[staff_code] = (
                member.person.name,
                identity.create_invite(session=session, person=member.person, estate_id=estate.id),
            )
    lines = [
        "",
        "Try it (type a line and press Enter; numbers press the buttons shown):",
        "  - you are an owner: type 报修 (repair); bind with unit 1-1-502 and phone 13800138001",
        "  - send a photo by typing the path of an image file",
        "  - /user desk then bind with code "
        + codes.get("K01", ("", "?"))[1]
        + f" ({codes.get('K01', ('?',))[0]}, customer service): 派单 dispatches the repair",
        "  - /user tech then bind with code "
        + codes.get("G01", ("", "?"))[1]
        + f" ({codes.get('G01', ('?',))[0]}, technician): 维修工单 to accept and finish it",
        "  - 取消 leaves any step, 帮助 shows the menu, 语言 switches language, /quit ends",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- invites


@app.command("invite")
def invite(
    estate: Annotated[str, typer.Option("--estate", help="Estate code.")],
    staff: Annotated[str | None, typer.Option(help="Staff code (工号).")] = None,
    phone: Annotated[str | None, typer.Option(help="A resident's phone on file.")] = None,
) -> None:
    """Issue a one-time binding code for a staff member or a resident."""
    if (staff is None) == (phone is None):
        raise typer.BadParameter("give exactly one of --staff or --phone")
    with _unit_of_work() as (session, settings):
        estate_row = estates.get_estate(session=session, code=estate)
        person: Person | None
        if staff is not None:
            member = session.scalar(
                select(StaffMember).where(
                    StaffMember.estate_id == estate_row.id, StaffMember.staff_code == staff
                )
            )
            person = member.person if member is not None else None
        else:
            person = people.resident_by_phone(
                session=session, estate_id=estate_row.id, phone=phone or ""
            )
        if person is None:
            raise InvalidInput("no such staff member or resident in this estate")
        code = identity.create_invite(session=session, person=person, estate_id=estate_row.id)
        typer.echo(f"{person.name}: {code}  (valid {settings.invite_valid_days} days, once)")


# ---------------------------------------------------------------- read-outs


def _ticket_row(ticket: Ticket, settings: Settings) -> dict[str, Any]:
    tz = settings.tz
    return {
        "number": ticket.number,
        "kind": ticket.kind.value,
        "status": ticket.status.value,
        "status_label": STATUS_LABELS[ticket.status],
        "category": ticket.category.value if ticket.category else None,
        "category_label": ticket.category.label if ticket.category else None,
        "severity": ticket.severity.value if ticket.severity else None,
        "severity_label": SEVERITY_LABELS[ticket.severity] if ticket.severity else None,
        "subject": ticket.subject,
        "where": ticket.where,
        "reporter": ticket.reporter.name,
        "department": ticket.department.name if ticket.department else None,
        "assignee": ticket.assignee.person.name if ticket.assignee else None,
        "created_at": format_local(ticket.created_at, tz),
        "due_at": format_local(ticket.due_at, tz) if ticket.due_at else None,
        "reply_due_at": format_local(ticket.reply_due_at, tz) if ticket.reply_due_at else None,
    }


@tickets_app.command("list")
def tickets_list(
    estate: EstateOption = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only tickets not closed.")] = False,
    kind: Annotated[TicketKind | None, typer.Option(help="repair or complaint.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List tickets, newest first."""
    with _unit_of_work() as (session, settings):
        rows = [
            _ticket_row(t, settings)
            for t in tickets.list_tickets(
                session=session,
                estate_id=_estate_id(session, estate),
                kind=kind,
                open_only=open_only,
            )
        ]
    _emit(
        rows,
        as_json,
        ["number", "status_label", "category_label", "where", "reporter", "created_at"],
    )


@patrols_app.command("list")
def patrols_list(
    estate: EstateOption = None,
    status: Annotated[FindingStatus | None, typer.Option(help="open, fixed or verified.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List patrol findings, newest first."""
    with _unit_of_work() as (session, settings):
        tz = settings.tz
        rows = [
            {
                "number": f.number,
                "status": f.status.value,
                "status_label": FINDING_STATUS_LABELS[f.status],
                "category": f.category.value,
                "category_label": PATROL_CATEGORY_LABELS[f.category],
                "place": f.place,
                "description": f.description,
                "reporter": f.reporter.person.name,
                "department": f.department.name if f.department else None,
                "fixed_on_site": f.fixed_on_site,
                "due_on": format_day(f.due_at, tz) if f.due_at else None,
                "extended_by": f.extended_by.person.name if f.extended_by else None,
                "created_at": format_local(f.created_at, tz),
            }
            for f in patrols.list_findings(
                session=session, estate_id=_estate_id(session, estate), status=status
            )
        ]
    _emit(
        rows, as_json, ["number", "status_label", "category_label", "place", "department", "due_on"]
    )


def _parse_day(value: str | None, settings: Settings) -> date:
    if value is None:
        return local_date(utcnow(), settings.tz)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-11-23") from None


@callbacks_app.command("due")
def callbacks_due(
    estate: EstateOption = None,
    on: Annotated[str | None, typer.Option("--date", help="Local day, default today.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Callbacks due on a day or earlier and not yet made, oldest first."""
    with _unit_of_work() as (session, settings):
        day = _parse_day(on, settings)
        now = utcnow()
        due: list[Callback] = callbacks.due(
            session=session, estate_id=_estate_id(session, estate), on=day
        )
        rows = [
            {
                "ticket": c.ticket.number,
                "where": c.ticket.where,
                "owner": c.ticket.reporter.name,
                "phone": c.ticket.contact_phone,
                "done_at": format_local(
                    c.ticket.done_at or c.ticket.replied_at or c.created_at, settings.tz
                ),
                "due_on": format_day(c.due_at, settings.tz),
                "overdue": c.due_at <= now,
            }
            for c in due
        ]
    _emit(rows, as_json, ["ticket", "where", "owner", "due_on", "overdue"])


def _estates_named(session: Session, code: str | None) -> list[Estate]:
    return (
        [estates.get_estate(session=session, code=code)]
        if code
        else estates.list_estates(session=session)
    )


@app.command("digest")
def digest(
    estate: EstateOption = None,
    on: Annotated[str | None, typer.Option("--date", help="Local day, default today.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Queue it for the heads.")] = False,
) -> None:
    """The daily digest of a day: shown (dry run), or with --send queued for the department
    heads and the project manager (once: a second --send sends nothing)."""
    from scheduler import jobs

    with _unit_of_work() as (session, settings):
        day, now = _parse_day(on, settings), utcnow()
        for row in _estates_named(session, estate):
            if send:
                queued = jobs.digest(session, row, day, now)
                typer.echo(f"{row.name}: {queued} digests queued")
            else:
                typer.echo(jobs.digest_text(session, row, day, now, i18n.translator(None)))


jobs_app = typer.Typer(help="The scheduler's jobs, on demand.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def jobs_list() -> None:
    """The jobs the scheduler runs, and how often."""
    from scheduler.clock import REGISTRY

    for job in REGISTRY:
        typer.echo(
            f"{job.name:24} every {job.every_minutes} min  {job.run.__doc__ or ''}".split("\n")[0]
        )


@jobs_app.command("run")
def jobs_run(
    job: Annotated[str | None, typer.Argument(help="A job's name; all when omitted.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Keep what it queues.")] = False,
) -> None:
    """Run jobs now, as the scheduler would: a dry run shows what they would send and keeps
    nothing; with --send their notices are queued (each at most once, as always)."""
    from scheduler.clock import REGISTRY

    chosen = [j for j in REGISTRY if job in (None, j.name)]
    if not chosen:
        raise typer.BadParameter(f"no job {job!r}: see `wuye jobs list`")
    with _database() as db, db.session() as session, session.begin() as transaction:
        before = session.scalar(select(func.max(OutboxMessage.id))) or 0
        now = utcnow()
        for each in chosen:
            typer.echo(f"{each.name}: {each.run(session, now)}")
        for notice in session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > before).order_by(OutboxMessage.id)
        ):
            who = notice.recipient.name if notice.recipient else notice.chat_id
            typer.echo(f"  → {who}: " + notice.text.replace("\n", "\n    "))
        if not send:
            transaction.rollback()
            typer.echo("(dry run: nothing kept; --send to queue)")


report_app = typer.Typer(help="Reports.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("monthly")
def report_monthly(
    month: Annotated[str, typer.Option(help="The month, e.g. 2026-11.")],
    estate: EstateOption = None,
    xlsx: Annotated[Path | None, typer.Option(help="Write the Excel workbook here.")] = None,
    png: Annotated[Path | None, typer.Option(help="Write the Pareto chart (排列图) here.")] = None,
) -> None:
    """A month's statistics: printed, and as an Excel workbook and a Pareto chart."""
    from scheduler.reports import summary, write_pareto, write_workbook
    from storage.report import monthly_report

    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise typer.BadParameter(f"{month!r} is not a month like 2026-11") from None
    with _unit_of_work() as (session, _):
        rows = _estates_named(session, estate)
        for row in rows:
            figures = monthly_report(session=session, estate_id=row.id, month=first)
            typer.echo(summary(figures, row.name, i18n.translator(None)))
            suffix = f"-{row.code}" if len(rows) > 1 else ""
            if xlsx is not None:
                target = xlsx.with_stem(xlsx.stem + suffix)
                write_workbook(figures, row.name, target)
                typer.echo(f"workbook: {target}")
            if png is not None:
                target = png.with_stem(png.stem + suffix)
                write_pareto(figures, row.name, target)
                typer.echo(f"chart: {target}")


i18n_app = typer.Typer(help="Translations (for developers).", no_args_is_help=True)
app.add_typer(i18n_app, name="i18n")


@i18n_app.command("update")
def i18n_update() -> None:
    """Re-extract the message ids and update the catalogs: new zh-Hant entries are converted
    from zh-Hans with OpenCC (review them), new English entries are left empty to translate."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po
    from opencc import OpenCC  # a dev dependency: pip install -e '.[dev]'

    root = Path(__file__).resolve().parent.parent
    messages = i18n.extract(root)
    to_traditional = OpenCC("s2t")
    for locale in ("zh_Hant", "en"):
        path = i18n.catalog_path(locale)
        old: dict[str, str] = {}
        if path.exists():
            with path.open("rb") as po:
                old = {str(m.id): str(m.string) for m in read_po(po) if m.id and m.string}
        catalog = Catalog(
            locale=locale.split("_")[0], domain=i18n.DOMAIN, project="wuye", language_team=locale
        )
        missing = 0
        for msgid, places in sorted(messages.items(), key=lambda item: item[1][0]):
            string = old.get(msgid) or (
                to_traditional.convert(msgid) if locale == "zh_Hant" else ""
            )
            missing += not string
            catalog.add(
                msgid,
                string,
                locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places[:3]],
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=100, sort_output=False, omit_header=False)
        typer.echo(f"{locale}: {len(messages)} messages, {missing} to translate")


def main(argv: list[str] | None = None) -> None:
    """Entry point: a bad setting or a refused request ends with its reason, not a traceback."""
    runner: Callable[..., Any] = app
    try:
        runner(args=argv, standalone_mode=True)
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        sys.exit(2)
    except DomainError as exc:
        typer.echo(f"wuye: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
