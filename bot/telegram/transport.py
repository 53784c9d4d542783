"""The Bot API over aiohttp: PTB's networking backend, replaced where PTB says it may be.

PTB's default backend is httpx, whose pooled client (httpcore over anyio) costs about
0.6 ms of CPU a request alone and over 1 ms with a dozen in flight; aiohttp's client, whose
HTTP parser is C, costs under 0.2 ms. A webhook's replies are mostly Bot API calls, so
this is a fifth of wuye's CPU per Update (bench/README.md, issue 19). PTB keeps everything
above the wire: building the request, reading the answer, raising RetryAfter, Forbidden,
BadRequest as it always does.

A call without files goes as one JSON body, which the Bot API takes as it takes a form:
aiohttp url-encoding PTB's form of JSON-encoded fields cost a quarter of the client's CPU
a call (bench/README.md).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's HTTPXRequest defaults, so that a slow Bot API is given up on as before.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_TIMEOUT = 20.0
_JSON = {"Content-Type": "application/json"}


class AiohttpRequest(BaseRequest):
    """One keep-alive connection pool per event loop: a CLI command that runs several
    event loops one after another gets a fresh pool in each, as an aiohttp session belongs
    to the loop it was made in."""

    def __init__(self, *, connection_pool_size: int = 1, read_timeout: float = READ_TIMEOUT):
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def read_timeout(self) -> float:
        return self._read_timeout

    async def initialize(self) -> None:
        self._current()

    async def shutdown(self) -> None:
        session, self._session, self._loop = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    def _current(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )
            self._loop = loop
        return self._session

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        files = request_data.multipart_data if request_data else None
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, CONNECT_TIMEOUT)
        # aiohttp has no write timeout: sending a picture is given the media time to be
        # read back, as PTB gives it to be written (no timeout stays none).
        media = _given(write_timeout, MEDIA_TIMEOUT)
        if files and read is not None:
            read = None if media is None else max(read, media)
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's connect includes waiting for a free connection of the pool.
            connect=None
            if connect is None
            else connect + (_given(pool_timeout, POOL_TIMEOUT) or 0),
            sock_connect=connect,
            sock_read=read,
        )
        body: Any = None
        headers: dict[str, str] | None = None
        if files and request_data is not None:
            body = _multipart(request_data, files)
        elif request_data is not None:
            body, headers = _json(request_data), _JSON
        try:
            async with self._current().request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


def _json(request_data: RequestData) -> bytes:
    """The parameters as one JSON object (PTB has made each value JSON-ready)."""
    return json.dumps(request_data.parameters, ensure_ascii=False, separators=(",", ":")).encode()


def _multipart(request_data: RequestData, files: dict[str, Any]) -> aiohttp.FormData:
    """As PTB sends files: a multipart body, each parameter a JSON-encoded field beside
    them."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in files.items():
        if isinstance(part, tuple):
            filename, content, *rest = part
            form.add_field(
                name,
                content,
                filename=filename,
                content_type=rest[0] if rest else "application/octet-stream",
            )
        else:
            form.add_field(name, part, filename=name)
    return form
