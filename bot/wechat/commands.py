"""``wuye wechat …``: the Official Account's own settings."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.wechat.api import WechatApi
from bot.wechat.wire import menu as menu_of
from conversations.engine import commands_of
from conversations.flows import FLOWS
from storage.config import load_settings
from storage.database import opened
from storage.i18n import DEFAULT_LOCALE, LOCALES, translator

commands = typer.Typer(help="The WeChat Official Account.", no_args_is_help=True)


@commands.command("menu")
def menu(
    language: Annotated[
        str, typer.Option(help=f"The menu's language: {', '.join(LOCALES)}.")
    ] = DEFAULT_LOCALE,
) -> None:
    """Create the account's custom menu from the flows' commands. WeChat shows every
    follower the same menu (it no longer matches menus to a follower's language), so it is
    in one language; what a click starts speaks the follower's own."""
    if language not in LOCALES:
        raise typer.BadParameter(f"{language!r} is not one of {', '.join(LOCALES)}")
    with opened(load_settings()) as db:
        created = menu_of(commands_of(FLOWS), translator(language))
        WechatApi(db.settings, db).menu.create(created)
    names = [
        b["name"]
        + (f" ({', '.join(s['name'] for s in b['sub_button'])})" if "sub_button" in b else "")
        for b in created["button"]
    ]
    typer.echo("menu created: " + " / ".join(names))
