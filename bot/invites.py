"""Binding codes people scan: a Telegram deep link (t.me/<bot>?start=<code>) and a WeChat
QR code with the code as its scene (带参数二维码: its scan arrives as a subscribe or SCAN
event), as PNG files or one page per unit for a campaign (each page to its unit's mailbox:
a code binds whoever holds it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import segno

from storage.config import Settings
from storage.database import Database

# WeChat keeps a temporary QR code at most 30 days (qrcode/create, expire_seconds).
WECHAT_QR_LONGEST_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class Scannable:
    """What a code becomes on paper: each platform's link, or none configured."""

    code: str
    telegram: str | None = None  # https://t.me/<bot>?start=<code>
    wechat: str | None = None  # the content of WeChat's QR code for the scene <code>


def telegram_username(settings: Settings) -> str | None:
    """The bot's @name: WUYE_TELEGRAM_BOT_USERNAME, else asked of the Bot API (getMe)."""
    if settings.telegram_bot_username:
        return settings.telegram_bot_username.lstrip("@")
    if settings.telegram_token is None:
        return None
    token = settings.telegram_token.get_secret_value()
    response = httpx.get(f"{settings.telegram_api_base_url}/bot{token}/getMe", timeout=10)
    response.raise_for_status()
    return str(response.json()["result"]["username"])


def wechat_scene_url(settings: Settings, db: Database, code: str, valid_days: int) -> str | None:
    """The URL WeChat's QR code for this scene encodes (drawn here, not fetched as an image),
    or None without WeChat configured."""
    if not settings.wechat_app_id or settings.wechat_app_secret is None:
        return None
    from bot.wechat.api import WechatApi

    created = WechatApi(settings, db).qrcode.create(
        {
            "expire_seconds": min(valid_days * 24 * 3600, WECHAT_QR_LONGEST_SECONDS),
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": code}},
        }
    )
    return str(created["url"])


def scannable(settings: Settings, db: Database, code: str, valid_days: int) -> Scannable:
    username = telegram_username(settings)
    return Scannable(
        code=code,
        telegram=f"https://t.me/{username}?start={code}" if username else None,
        wechat=wechat_scene_url(settings, db, code, valid_days),
    )


def write_png(link: str, path: Path) -> Path:
    segno.make(link, error="m").save(str(path), scale=10, border=4)
    return path


def qr_files(found: Scannable, path: Path) -> list[Path]:
    """FILE.png for Telegram's link, FILE-wechat.png for WeChat's (both when both are
    configured; the only one as FILE.png when one is)."""
    links = [
        (name, link)
        for name, link in (("telegram", found.telegram), ("wechat", found.wechat))
        if link
    ]
    if len(links) == 1:
        return [write_png(links[0][1], path)]
    return [
        write_png(
            link, path if name == "telegram" else path.with_name(f"{path.stem}-{name}{path.suffix}")
        )
        for name, link in links
    ]


@dataclass(frozen=True)
class SheetEntry:
    """One resident's code on a unit's page."""

    name: str
    relation: str
    found: Scannable


@dataclass(frozen=True)
class SheetPage:
    unit: str
    entries: Sequence[SheetEntry]


FONT = "STSong-Light"  # reportlab's CID font: Chinese in the PDF without a font file


def write_sheet(pages: Sequence[SheetPage], path: Path, *, estate: str, valid_until: date) -> Path:
    """One A4 page per unit: its residents' codes, each with the QR codes to scan, and what
    to do with them, for the unit's mailbox."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen.canvas import Canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    width, height = A4
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setTitle(f"{estate} 住户绑定")
    for page in pages:
        canvas.setFont(FONT, 22)
        canvas.drawCentredString(width / 2, height - 30 * mm, f"{estate} · 住户绑定")
        canvas.setFont(FONT, 16)
        canvas.drawCentredString(width / 2, height - 42 * mm, f"房号 {page.unit}")
        canvas.setFont(FONT, 10)
        canvas.drawCentredString(
            width / 2,
            height - 50 * mm,
            "扫码即可绑定，之后在手机上报修、投诉，并收到物业的通知。"
            f"绑定码一人一码，{valid_until.isoformat()} 前有效。",
        )
        top = height - 62 * mm
        for entry in page.entries:
            canvas.setFont(FONT, 13)
            said = f"{entry.name}（{entry.relation}）  绑定码："
            canvas.drawString(20 * mm, top, said)
            # The code in a typewriter face: read aloud and typed, every letter distinct.
            canvas.setFont("Courier-Bold", 15)
            canvas.drawString(
                20 * mm + pdfmetrics.stringWidth(said, FONT, 13), top, entry.found.code
            )
            left = 20 * mm
            for label, link in (
                ("微信扫码", entry.found.wechat),
                ("Telegram 扫码", entry.found.telegram),
            ):
                if link is None:
                    continue
                _draw_qr(canvas, link, left, top - 48 * mm, 42 * mm)
                canvas.setFont(FONT, 9)
                canvas.drawCentredString(left + 21 * mm, top - 53 * mm, label)
                left += 55 * mm
            if entry.found.wechat is None and entry.found.telegram is None:
                canvas.setFont(FONT, 10)
                canvas.drawString(20 * mm, top - 8 * mm, "向物业服务号发送上面的绑定码即可绑定。")
                top -= 18 * mm
            else:
                top -= 66 * mm
            if top < 70 * mm:  # a unit with many residents continues on the next page
                canvas.showPage()
                top = height - 30 * mm
        canvas.setFont(FONT, 9)
        canvas.drawCentredString(
            width / 2, 15 * mm, "本页仅限本户住户使用，请勿张贴或转给他人。如有疑问请联系客服中心。"
        )
        canvas.showPage()
    canvas.save()
    return path


def _draw_qr(canvas: Any, link: str, x: float, y: float, size: float) -> None:
    rows = list(segno.make(link, error="m").matrix_iter(scale=1, border=2))
    module = size / len(rows)
    draw = canvas.rect
    for row_number, row in enumerate(rows):
        for column, dark in enumerate(row):
            if dark:
                draw(
                    x + column * module,
                    y + (len(rows) - 1 - row_number) * module,
                    module,
                    module,
                    stroke=0,
                    fill=1,
                )
