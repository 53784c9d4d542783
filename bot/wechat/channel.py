"""The WeChat channel: signed (and encrypted) XML in, a passive reply out within 5 seconds.

What takes longer than the reply budget (a slow database, a media download) is
finished after the reply and delivered as customer-service messages through the
outbox. Notifications use customer-service messages inside WeChat's 48-hour window
(at most 5 per user message) and a template message outside it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any, ClassVar
from xml.parsers.expat import ExpatError

import typer
import xmltodict
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatClientException
from wechatpy.replies import TextReply

from bot.channel import MAX_BODY, Refused
from bot.inbox import Inbox, Kept
from bot.metrics import measured
from bot.wechat.api import WechatApi, decrypt, uploaded
from bot.wechat.commands import commands
from bot.wechat.wire import PLATFORM, render, split_passive, to_incoming
from conversations.engine import Answer, Engine
from conversations.messages import Reply
from storage.attachment.files import AttachmentRefused, Shelf
from storage.attachment.models import AttachmentKind
from storage.chat import service as chat
from storage.clock import utcnow
from storage.config import Settings
from storage.database import Busy
from storage.i18n import negotiate, translator
from storage.identity import service as identity
from storage.outbox import service as outbox

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=48)
PER_MESSAGE = 5  # customer-service messages allowed per user message
# 45015: outside the 48 hours; 45047: too many replies to one message → try a template.
OUT_OF_WINDOW = {45015, 45047}
# 43004: not following the account; 43101: the user refused the notice → give up, say why.
REFUSED = {43004, 43101, 40003}


def _report_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        if not isinstance(error, NotFromWechat):
            log.error("wechat background work failed", exc_info=error)
        else:
            log.info("wechat request refused after its reply: %s", error)


class NotFromWechat(Exception):
    """A request that does not come from WeChat (bad signature, stale, or replayed)."""


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 (WeChat's)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class WechatChannel:
    platform: ClassVar[str] = PLATFORM
    preferred: ClassVar[bool] = False
    commands: ClassVar[typer.Typer | None] = commands

    @classmethod
    def configure(cls, settings: Settings, engine: Engine) -> WechatChannel | None:
        if settings.wechat_token is None:
            return None
        return cls(settings=settings, engine=engine, api=WechatApi(settings, engine.db))

    def __init__(self, *, settings: Settings, engine: Engine, api: WechatApi) -> None:
        if settings.wechat_token is None or settings.wechat_app_id is None:
            raise ValueError("WeChat needs WUYE_WECHAT_TOKEN and WUYE_WECHAT_APP_ID")
        self.settings = settings
        self.engine = engine
        self.db = engine.db
        self.api = api
        self.token = settings.wechat_token.get_secret_value()
        self.keys = [
            k.get_secret_value()
            for k in (settings.wechat_aes_key, settings.wechat_previous_aes_key)
            if k
        ]
        self.shelf = Shelf.of(settings, PLATFORM)
        self.pending: set[asyncio.Future[Any]] = set()
        self.inbox = Inbox(engine, platform=PLATFORM)

    def routes(self) -> list[BaseRoute]:
        return [Route("/wechat", self.endpoint, methods=["GET", "POST"])]

    async def start(self) -> None:
        self.inbox.start()

    async def stop(self) -> None:
        """Finish the messages taken after their passive reply was given."""
        await self.inbox.stop()
        if self.pending:
            await asyncio.wait(set(self.pending), timeout=30)

    async def endpoint(self, request: Request) -> Response:
        return await measured(PLATFORM, self._endpoint, request)

    async def _endpoint(self, request: Request) -> Response:
        params = dict(request.query_params)
        try:
            if request.method == "GET":
                return PlainTextResponse(self.verify_url(params))
            body = await request.body()
            if len(body) > MAX_BODY:
                return Response(status_code=413)
            answer = await self.receive(params, body)
        except NotFromWechat as refused:
            log.info("wechat request refused: %s", refused)
            return Response(status_code=403)
        except (ValueError, KeyError, ExpatError) as bad:
            log.info("wechat request unreadable: %s", bad)
            return Response(status_code=400)
        return Response(answer, media_type="application/xml")

    # ------------------------------------------------------------ verifying

    def _check(self, params: Mapping[str, str]) -> None:
        timestamp, nonce = params.get("timestamp", ""), params.get("nonce", "")
        given = params.get("signature", "")
        if not (timestamp.isdigit() and nonce and given):
            raise NotFromWechat("unsigned")
        if not _same(signature(self.token, timestamp, nonce), given):
            raise NotFromWechat("bad signature")
        if abs(time.time() - int(timestamp)) > self.settings.wechat_max_clock_skew_seconds:
            raise NotFromWechat("stale timestamp")

    def verify_url(self, params: Mapping[str, str]) -> str:
        """WeChat's GET when the URL is saved in the console: echo ``echostr`` if signed."""
        self._check(params)
        return params.get("echostr", "")

    def _open(self, params: Mapping[str, str], body: bytes) -> tuple[str, bool]:
        """The message XML, and whether it came encrypted (the reply must be too)."""
        if params.get("encrypt_type", "raw") != "aes":
            if self.settings.wechat_effective_mode == "safe":
                raise NotFromWechat("safe mode: unencrypted message refused")
            return body.decode(), False
        encrypted = xmltodict.parse(body)["xml"]["Encrypt"]
        wanted = signature(self.token, params["timestamp"], params["nonce"], encrypted)
        if not _same(wanted, params.get("msg_signature", "")):
            raise NotFromWechat("bad msg_signature")
        app_id = self.settings.wechat_app_id or ""
        for key in self.keys:  # the current EncodingAESKey, then the one before a rotation
            try:
                return decrypt(encrypted, key, app_id), True
            except Exception:  # noqa: S112  (a wrong key fails to unpad or to match the app id)
                continue
        raise NotFromWechat("cannot decrypt with any configured EncodingAESKey")

    # ------------------------------------------------------------ receiving

    async def receive(self, params: Mapping[str, str], body: bytes) -> str:
        """The passive reply's body: "success" (nothing to say now) or reply XML."""
        self._check(params)
        xml, encrypted = self._open(params, body)
        message = parse_message(xml)
        # Everything that touches the database runs inside the reply budget, the replay
        # check included: a slow database must not make WeChat wait past 5 seconds.
        work = asyncio.ensure_future(self._process(message, params))
        self._track(work)
        try:
            taken = await asyncio.wait_for(
                asyncio.shield(work), self.settings.wechat_reply_budget_seconds
            )
        except TimeoutError:
            # Too slow for WeChat's 5 seconds: answer now, deliver later, never twice.
            work.add_done_callback(self._later)
            return "success"
        if taken is None:
            return "success"
        if isinstance(taken, Kept):  # taken later: its replies come as customer service
            if taken.notice is None:
                return "success"
            now, rest = taken.notice.text, ""
        elif not taken.replies:
            return "success"
        else:
            t = await asyncio.to_thread(self._translator, message.source)
            now, rest = split_passive(render(list(taken.replies), t))
            await self.inbox.confirm(partial(self._answered, message.source, taken, rest))
        reply = TextReply(source=message.target, target=message.source, content=now).render()
        if not encrypted:
            return str(reply)
        crypto = WeChatCrypto(self.token, self.keys[0], self.settings.wechat_app_id)
        return str(crypto.encrypt_message(reply, params["nonce"], params["timestamp"]))

    def _track(self, task: asyncio.Future[Any]) -> None:
        """A background task is finished on stop and never fails unheard."""
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)
        task.add_done_callback(_report_failure)

    def _first_nonce(self, params: Mapping[str, str]) -> bool:
        with self.db.transaction() as session:
            return chat.first_sighting(
                session=session,
                platform="wechat-nonce",
                chat_id=params["timestamp"],
                message_id=params["nonce"],
            )

    async def _process(self, message: Any, params: Mapping[str, str]) -> Answer | Kept | None:
        try:
            # Signed and fresh; when the database is down it is kept unchecked: the engine
            # still takes each MsgId once.
            first = self.inbox.unavailable or await asyncio.to_thread(self._first_nonce, params)
        except (DBAPIError, Busy) as error:
            log.warning("wechat replay check skipped, the database cannot take it: %s", error)
            first = True
        if not first:
            raise NotFromWechat("replayed nonce")
        media: dict[str, str] = {}
        refused: tuple[str, ...] = ()
        if message.type in ("image", "voice") and message.media_id:
            media, refused = await asyncio.to_thread(self._download, message)
        if message.type == "event" and (message.event or "").lower() == "unsubscribe":
            await asyncio.to_thread(self._unsubscribed, message.source)
            return None
        incoming = to_incoming(message, media)
        if incoming is None:
            return None
        if refused:  # nothing of a refused file goes on, not even WeChat's link to it
            incoming = replace(incoming, photos=(), refused=refused)
        return await self.inbox.take(incoming)

    def _download(self, message: Any) -> tuple[dict[str, str], tuple[str, ...]]:
        """The message's photo or voice note kept (media id → ref), or why it was refused.

        A refused file is dropped and its reason passed on, for the engine to tell the
        sender; one that cannot be fetched now keeps its media id, for WeChat keeps it 3 days.
        """
        media_id = str(message.media_id)
        kind = AttachmentKind.PHOTO if message.type == "image" else AttachmentKind.VOICE
        try:
            kept = self.api.download(media_id, self.shelf, kind=kind)
        except AttachmentRefused as refusal:
            log.info("wechat media %s refused: %s", media_id, refusal)
            return {}, (refusal.reason.value,)
        except Exception as error:  # keep the id: it can be fetched again for 3 days
            log.warning("could not download wechat media %s: %s", media_id, error)
            return {media_id: f"wechat:{media_id}"}, ()
        return {media_id: str(kept)}, ()

    def _unsubscribed(self, openid: str) -> None:
        with self.db.transaction() as session:
            chat.note_unsubscribed(session=session, platform=PLATFORM, chat_id=openid)

    def _translator(self, openid: str) -> Any:
        with self.db.transaction() as session:
            person = identity.identify(session=session, platform=PLATFORM, external_id=openid)
            return translator(person.locale if person else negotiate(None))

    def _answered(self, openid: str, answer: Answer, rest: str) -> None:
        """The passive reply carries the replies: confirmed, and what did not fit queued."""
        with self.db.transaction() as session:
            outbox.delivered_all(session=session, replies=answer.kept)
            if rest:
                outbox.to_chat(session=session, platform=PLATFORM, chat_id=openid, text=rest)

    def _later(self, done: asyncio.Future[Answer | Kept | None]) -> None:
        """Taken after the passive reply was given: its replies go as customer service."""
        if done.cancelled() or done.exception() is not None:
            return  # reported by _report_failure
        answer = done.result()
        if isinstance(answer, Answer) and answer.kept:
            late = asyncio.ensure_future(
                asyncio.to_thread(
                    self.engine.settle, answer, sent=0, reason="too late for the passive reply"
                )
            )
            self._track(late)

    # ------------------------------------------------------------ notifying

    async def send(self, chat_id: str, reply: Reply) -> None:
        # wechatpy's client blocks: it runs beside the event loop, not on it.
        await asyncio.to_thread(self._send, chat_id, reply)

    def _send(self, openid: str, reply: Reply) -> None:
        """A notice to one follower: customer service inside the window (its pictures as
        image messages, then its text), a template outside, which carries text only."""
        text = render([reply], translator(None))
        with self.db.transaction() as session:
            window = chat.window(session=session, platform=PLATFORM, chat_id=openid)
            if window is not None and window.unsubscribed_at is not None:
                raise Refused("the user unfollowed the official account")
            inside = (
                window is not None
                and utcnow() - window.last_inbound_at < WINDOW
                and window.sent_since_inbound < PER_MESSAGE
            )
            room = PER_MESSAGE - window.sent_since_inbound if window is not None else 0
        if inside:
            try:
                self._pictures(openid, reply.images, room - 1)  # the text's place kept
                self.api.message.send_text(openid, text)
            except WeChatClientException as error:
                if error.errcode in REFUSED:
                    raise Refused(f"{error.errcode} {error.errmsg}") from error
                if error.errcode not in OUT_OF_WINDOW:
                    raise
            else:
                self._sent(openid)
                return
        elif reply.images:
            log.info(
                "wechat %s is outside the 48-hour window: the template goes without its "
                "%d pictures",
                openid,
                len(reply.images),
            )
        self._template(openid, text)

    def _pictures(self, openid: str, images: tuple[str, ...], room: int) -> None:
        """Each picture as an image message, up to ``room`` of them. One that cannot go
        (gone from disk, refused by the upload, a media id WeChat no longer keeps) is left
        out and the text still goes; outside the window or refused, the caller decides."""
        sent = 0
        for image in images:
            if sent == room:
                log.info("wechat %s: no room left in the window for more pictures", openid)
                return
            media_id = self._media_id(image)
            if media_id is None:
                continue
            try:
                self.api.message.send_image(openid, media_id)
            except WeChatClientException as error:
                if error.errcode in REFUSED | OUT_OF_WINDOW:
                    raise
                log.warning("wechat picture %s not sent to %s: %s", image, openid, error)
                continue
            self._sent(openid)
            sent += 1

    def _media_id(self, image: str) -> str | None:
        """WeChat's media id for a picture: a photo that could not be downloaded is still
        WeChat's (for 3 days) and goes by its id; a local file is uploaded."""
        platform, _, media_id = image.partition(":")
        if platform == PLATFORM and media_id:
            return media_id
        return uploaded(self.api, image)

    def _sent(self, openid: str) -> None:
        """One more customer-service message counted against the window."""
        with self.db.transaction() as session:
            chat.note_sent(session=session, platform=PLATFORM, chat_id=openid)

    def _template(self, openid: str, text: str) -> None:
        template = self.settings.wechat_template_notice
        if not template:
            raise Refused(
                "outside WeChat's 48-hour window and no template is configured "
                "(WUYE_WECHAT_TEMPLATE_NOTICE)"
            )
        first, _, rest = text.partition("\n")
        data = {
            "first": {"value": first},
            "keyword1": {"value": rest or first},
            "remark": {"value": ""},
        }
        try:
            self.api.message.send_template(openid, template, data)
        except WeChatClientException as error:
            if error.errcode in REFUSED:
                raise Refused(f"{error.errcode} {error.errmsg}") from error
            raise
