"""WeCom (企业微信): staff notices through the company's own app, when it is configured."""

from __future__ import annotations

from typing import Any

from wechatpy.enterprise import WeChatClient as WeComClient
from wechatpy.exceptions import WeChatClientException

from bot.dispatcher import Refused
from bot.wechat.api import DatabaseSession
from conversations.messages import Reply
from storage.config import Settings
from storage.database import Database

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


class WecomSender:
    def __init__(self, settings: Settings, db: Database) -> None:
        if settings.wecom_agent_id is None:
            raise ValueError("WeCom needs WUYE_WECOM_AGENT_ID")
        self.agent_id = settings.wecom_agent_id
        self.api = WecomApi(settings, db)

    def send(self, user_id: str, reply: Reply) -> None:
        try:
            self.api.message.send_text(self.agent_id, user_id, reply.text)
        except WeChatClientException as error:
            if error.errcode in UNKNOWN_USER:
                raise Refused(f"{error.errcode} {error.errmsg}") from error
            raise
