"""The WeCom channel: it only delivers, to the staff linked to a WeCom user id, and they
are reached there before their other chats."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import typer
from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.exceptions import WeChatClientException

from bot.channel import Refused, SendOnly
from bot.wechat.api import DatabaseSession, uploaded
from bot.wecom import PLATFORM
from bot.wecom.commands import commands
from conversations.engine import Engine
from conversations.messages import Reply
from storage.config import Settings
from storage.database import Database

log = logging.getLogger(__name__)

# 60111 / 81013: the user id is unknown to the corp or outside the app's visible range.
UNKNOWN_USER = {60111, 81013}


class WecomApi(WeComClient):  # type: ignore[misc]
    def __init__(self, settings: Settings, db: Database) -> None:
        secret = settings.wecom_secret.get_secret_value() if settings.wecom_secret else ""
        super().__init__(settings.wecom_corp_id, secret, session=DatabaseSession(db), timeout=10)
        self.base = settings.wecom_api_base_url
        self.API_BASE_URL = f"{self.base}/cgi-bin/"

    def fetch_access_token(self) -> Any:
        return self._fetch_access_token(
            url=f"{self.base}/cgi-bin/gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
        )


class WecomChannel(SendOnly):
    platform: ClassVar[str] = PLATFORM
    # A staff member's work reaches them in the company's own app first.
    preferred: ClassVar[bool] = True
    commands: ClassVar[typer.Typer | None] = commands

    @classmethod
    def configure(cls, settings: Settings, engine: Engine) -> WecomChannel | None:
        if settings.wecom_corp_id is None:
            return None
        return cls(settings, engine.db)

    def __init__(self, settings: Settings, db: Database) -> None:
        if settings.wecom_agent_id is None:
            raise ValueError("WeCom needs WUYE_WECOM_AGENT_ID")
        self.agent_id = settings.wecom_agent_id
        self.api = WecomApi(settings, db)

    async def send(self, chat_id: str, reply: Reply) -> None:
        # wechatpy's client blocks: it runs beside the event loop, not on it.
        await asyncio.to_thread(self._send, chat_id, reply)

    def _send(self, user_id: str, reply: Reply) -> None:
        """The pictures as image messages of the app, then the text. A picture that cannot
        go (gone from disk, refused, a WeChat media id the corp cannot use) is left out;
        the text still goes."""
        try:
            for image in reply.images:
                media_id = uploaded(self.api, image)
                if media_id is None:
                    continue
                try:
                    self.api.message.send_image(self.agent_id, user_id, media_id)
                except WeChatClientException as error:
                    if error.errcode in UNKNOWN_USER:
                        raise
                    log.warning("wecom picture %s not sent to %s: %s", image, user_id, error)
            self.api.message.send_text(self.agent_id, user_id, reply.text)
        except WeChatClientException as error:
            if error.errcode in UNKNOWN_USER:
                raise Refused(f"{error.errcode} {error.errmsg}") from error
            raise
