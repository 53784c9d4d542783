"""The WeChat API client, its access token shared by every worker through the database."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from wechatpy import WeChatClient
from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from storage.attachment.files import Shelf
from storage.attachment.models import AttachmentKind
from storage.clock import utcnow
from storage.config import Settings
from storage.database import Database
from storage.shared import service as shared

log = logging.getLogger(__name__)

# Refresh a little before WeChat's expiry, so no request carries a token about to die.
EARLY = timedelta(minutes=5)


def uploaded(client: Any, image: str) -> str | None:
    """A local picture uploaded as temporary media (WeChat's or WeCom's, the same call):
    its media id, for an image message. None, and a line in the log, when the file is gone
    from disk or refused (too large, not an image): the message about it still goes."""
    try:
        picture = Path(image).open("rb")  # noqa: SIM115 (closed below, after the upload)
    except OSError as error:  # only the file's: requests' network errors are OSErrors too
        log.warning("picture %s not uploaded: %s", image, error)
        return None
    with picture:
        try:
            return str(client.media.upload("image", picture)["media_id"])
        except WeChatClientException as error:
            log.warning(
                "picture %s refused by the upload: %s %s", image, error.errcode, error.errmsg
            )
    return None


class DatabaseSession(SessionStorage):  # type: ignore[misc]
    """wechatpy's session storage on the shared database: one token for all workers."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str, default: Any = None) -> Any:
        with self.db.transaction() as session:
            value = shared.get(session=session, key=f"wechatpy:{key}")
        return default if value is None else value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        expires = utcnow() + timedelta(seconds=ttl) - EARLY if ttl else None
        with self.db.transaction() as session:
            shared.put(session=session, key=f"wechatpy:{key}", value=str(value), expires_at=expires)

    def delete(self, key: str) -> None:
        with self.db.transaction() as session:
            shared.delete(session=session, key=f"wechatpy:{key}")


class WechatApi(WeChatClient):  # type: ignore[misc]
    """wechatpy's client with the base URL a setting (a fake server in tests)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        secret = settings.wechat_app_secret.get_secret_value() if settings.wechat_app_secret else ""
        super().__init__(settings.wechat_app_id, secret, session=DatabaseSession(db), timeout=10)
        self.base = settings.wechat_api_base_url
        self.API_BASE_URL = f"{self.base}/cgi-bin/"

    def fetch_access_token(self) -> Any:
        return self._fetch_access_token(
            url=f"{self.base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )

    def download(self, media_id: str, shelf: Shelf, *, kind: AttachmentKind) -> Path:
        """Temporary media lives 3 days on WeChat's side: keep our own copy.

        Checked and named by its content (``Shelf.keep``), not by the media id or the content
        type WeChat sends; raises ``AttachmentRefused`` for one too large or not ``kind``.
        """
        response = self.get("media/get", params={"media_id": media_id})
        content = response.content if hasattr(response, "content") else b""
        if not content:  # not a refusal: nothing came, so it is fetched again later
            raise ValueError(f"WeChat sent no content for media {media_id}")
        return shelf.keep(content, kind=kind)


def aes_key(encoding_aes_key: str) -> bytes:
    return base64.b64decode(encoding_aes_key + "=")


def decrypt(encrypted: str, encoding_aes_key: str, app_id: str) -> str:
    return str(PrpCrypto(aes_key(encoding_aes_key)).decrypt(encrypted, app_id))
