"""``wuye wecom …``: linking staff to their WeCom accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.wecom import PLATFORM
from storage.config import load_settings
from storage.database import opened
from storage.errors import InvalidInput
from storage.estate import service as estates
from storage.identity import service as identity
from storage.people import service as people

commands = typer.Typer(help="WeCom (企业微信) for staff notices.", no_args_is_help=True)


@commands.command("link")
def link(
    estate: Annotated[str, typer.Option("--estate", help="Estate code.")],
    staff: Annotated[str, typer.Option(help="Staff code (工号).")],
    userid: Annotated[str, typer.Option(help="The member's WeCom user id.")],
) -> None:
    """Send a staff member's notices to their WeCom account."""
    with opened(load_settings()) as db, db.transaction() as session:
        estate_row = estates.get_estate(session=session, code=estate)
        member = people.staff_by_code(session=session, estate_id=estate_row.id, code=staff)
        if member is None:
            raise InvalidInput("本项目没有工号 {code}", code=staff)
        identity.link_account(
            session=session, person=member.person, platform=PLATFORM, external_id=userid
        )
        typer.echo(f"{member.person.name}: notices go to WeCom user {userid}")
