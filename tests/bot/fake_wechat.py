"""A fake WeChat API: access tokens, customer-service and template messages, media, menu;
and WeCom's (its own tokens, app messages, media) beside it."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Sent:
    kind: str  # "custom" or "template" or "menu", or "wecom"
    body: dict[str, Any]


@dataclass
class Upload:
    """Temporary media uploaded (media/upload), as WeChat keeps it."""

    by: str  # "wechat" or "wecom": whose access token uploaded it
    kind: str  # the type asked for: "image"
    filename: str
    content: bytes
    media_id: str


@dataclass
class FakeWechat:
    url: str = ""
    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)
    silent: set[str] = field(default_factory=set)  # openids past 48 h, as WeChat sees it
    refusing: set[str] = field(default_factory=set)  # openids that refuse notices (43101)
    arrived: threading.Event = field(default_factory=threading.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _uploaded: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/cgi-bin/token", self._token),
                Route("/cgi-bin/message/custom/send", self._custom, methods=["POST"]),
                Route("/cgi-bin/message/template/send", self._template, methods=["POST"]),
                Route("/cgi-bin/media/get", self._media),
                Route("/cgi-bin/media/upload", self._upload, methods=["POST"]),
                Route("/cgi-bin/menu/create", self._menu, methods=["POST"]),
                Route("/cgi-bin/qrcode/create", self._qrcode, methods=["POST"]),
                Route("/cgi-bin/gettoken", self._corp_token),  # WeCom
                Route("/cgi-bin/message/send", self._wecom, methods=["POST"]),
            ]
        )

    def texts(self, openid: str, kind: str = "custom") -> list[str]:
        """What reached the follower (or, with kind "wecom", the WeCom user), in order; an
        image message as "[image <media id>]"."""
        found = []
        for sent in self.sent:
            if sent.kind != kind or sent.body.get("touser") != openid:
                continue
            if kind == "template":
                found.append("\n".join(v["value"] for v in sent.body["data"].values()))
            elif sent.body.get("msgtype") == "image":
                found.append(f"[image {sent.body['image']['media_id']}]")
            else:
                found.append(sent.body["text"]["content"])
        return found

    def pictures(self, openid: str, kind: str = "custom") -> list[bytes]:
        """The pictures the follower (or WeCom user) was sent, as the bytes WeChat keeps."""
        return [
            self.media[sent.body["image"]["media_id"]][0]
            for sent in self.sent
            if sent.kind == kind
            and sent.body.get("touser") == openid
            and sent.body.get("msgtype") == "image"
        ]

    def revoke_tokens(self) -> None:
        self.valid_tokens.clear()

    async def _token(self, request: Request) -> Response:
        return self._issue("TOKEN")

    async def _corp_token(self, request: Request) -> Response:
        return self._issue("CORP-TOKEN")

    def _issue(self, prefix: str) -> Response:
        self.tokens_issued += 1
        token = f"{prefix}-{self.tokens_issued}"
        self.valid_tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 7200})

    def _unknown_media(self, body: dict[str, Any]) -> Response | None:
        """WeChat's answer to an image message naming media it does not hold (never
        uploaded, or past its 3 days)."""
        if body.get("msgtype") == "image" and body["image"]["media_id"] not in self.media:
            return JSONResponse({"errcode": 40007, "errmsg": "invalid media_id"})
        return None

    def _authorised(self, request: Request) -> bool:
        return request.query_params.get("access_token") in self.valid_tokens

    async def _custom(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        body = await request.json()
        if body["touser"] in self.silent:
            return JSONResponse({"errcode": 45015, "errmsg": "response out of time limit"})
        if (unknown := self._unknown_media(body)) is not None:
            return unknown
        self.sent.append(Sent("custom", body))
        self.arrived.set()
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def _template(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        body = await request.json()
        if body["touser"] in self.refusing:
            return JSONResponse({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
        self.sent.append(Sent("template", body))
        self.arrived.set()
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": next(self._ids)})

    async def _media(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        found = self.media.get(request.query_params.get("media_id", ""))
        if found is None:
            return JSONResponse({"errcode": 40007, "errmsg": "invalid media_id"})
        return Response(found[0], media_type=found[1])

    async def _wecom(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"errcode": 40014, "errmsg": "invalid access_token"})
        body = await request.json()
        if (unknown := self._unknown_media(body)) is not None:
            return unknown
        self.sent.append(Sent("wecom", body))
        self.arrived.set()
        return JSONResponse({"errcode": 0, "errmsg": "ok", "invaliduser": ""})

    async def _upload(self, request: Request) -> Response:
        """media/upload: the form's file kept as temporary media, by WeChat or WeCom."""
        if not self._authorised(request):
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        kind = request.headers.get("content-type", "")
        form = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + kind.encode() + b"\r\n\r\n" + await request.body()
        )
        [part] = [p for p in form.iter_parts() if p.get_filename() is not None]
        content = part.get_payload(decode=True)
        assert isinstance(content, bytes)
        media_id = f"uploaded-{next(self._uploaded)}"
        token = request.query_params.get("access_token", "")
        self.uploads.append(
            Upload(
                by="wecom" if token.startswith("CORP-") else "wechat",
                kind=request.query_params.get("type", ""),
                filename=str(part.get_filename()),
                content=content,
                media_id=media_id,
            )
        )
        self.media[media_id] = (content, part.get_content_type())
        return JSONResponse({"type": "image", "media_id": media_id, "created_at": 0})

    async def _qrcode(self, request: Request) -> Response:
        """带参数二维码: a ticket, and the URL the QR code encodes (which scanning opens)."""
        if not self._authorised(request):
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        body = await request.json()
        self.sent.append(Sent("qrcode", body))
        scene = body["action_info"]["scene"]["scene_str"]
        return JSONResponse(
            {
                "ticket": f"ticket-{scene}",
                "expire_seconds": body.get("expire_seconds", 2592000),
                "url": f"http://weixin.qq.com/q/{scene}",
            }
        )

    async def _menu(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        self.sent.append(Sent("menu", await request.json()))
        return JSONResponse({"errcode": 0, "errmsg": "ok"})
