"""The inbox: a channel's messages taken in turn for each chat, and none of them lost.

A channel hands every message it receives to ``Inbox.take`` and answers the platform
only after it returns: the message was either taken (its step and replies committed) or
kept here, in a file written and synced to disk first.

A message is kept when the engine cannot take it now (the database busy or down, a
bug), and so is every later message of the same chat until those before it are taken:
a chat's messages are handled in the order they came. ``drain`` takes what was kept, a
chat at a time, until it goes through; the replies then go out through the outbox. A
message that still fails after ``inbox_give_up_hours`` is given up with an apology.

A chat sending faster than a person types (beyond a burst, more than
``chat_messages_per_second``) is slowed the same way: its messages are kept and taken
at that pace, and it is asked to wait at most once a minute. It holds no thread and no
connection while it waits, so nobody else's message waits for it.

Every message kept, taken again or given up is logged and counted in ``/metrics``.
Order is per worker process: several processes on one folder take turns draining it,
and each keeps a chat's new messages behind the ones it sees waiting there.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import itertools
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import IO, Any

from aiolimiter import AsyncLimiter
from sqlalchemy.exc import DBAPIError

from bot.metrics import INBOUND, INBOX_WAITING
from conversations.engine import Answer, Engine
from conversations.messages import Incoming, Location, Reply
from storage.clock import format_local
from storage.database import Busy
from storage.i18n import N_, negotiate, translator
from storage.outbox import service as outbox

log = logging.getLogger(__name__)

# After a database error, new messages go straight to the inbox for this long, instead of
# each tying up a thread for the whole busy timeout; the drain finds out when it is back.
UNAVAILABLE_FOR = 2.0
ASK_TO_WAIT_EVERY = 60.0  # seconds: a flooding chat is asked to wait at most this often
DRAINING_AT_ONCE = 2  # kept messages taken at once: live traffic keeps the other threads
CONFIRM_EVERY = 0.05  # seconds: replies sent in this moment are recorded together
RETRY_AFTER_ERROR = 30.0  # seconds: a message that failed for a bug, tried again
BUSY = N_("系统繁忙，您的消息已收到，会按顺序处理，请稍候，不用重发。")
TOO_FAST = N_("您发送得太快了。消息都已收到，会按顺序逐条处理，请稍候。")
GIVEN_UP = N_("抱歉，系统出了点问题，您在 {time} 发送的消息没能处理。请再发一次。")


@dataclass(frozen=True)
class Kept:
    """The message was kept for later; ``notice`` is what to tell the person now, if
    anything (once an episode, without the database: it may be what is failing)."""

    notice: Reply | None = None


@lru_cache(maxsize=65_536)  # asked for every message
def _chat_key(chat_id: str) -> str:
    return hashlib.sha256(chat_id.encode()).hexdigest()[:16]


def _incoming(data: dict[str, Any]) -> Incoming:
    fields = dict(data)
    fields["photos"] = tuple(fields.get("photos") or ())
    if fields.get("location") is not None:
        fields["location"] = Location(**fields["location"])
    return Incoming(**fields)


@dataclass
class _Chat:
    lock: asyncio.Lock
    limiter: AsyncLimiter
    asked_to_wait_at: float = float("-inf")
    told_busy: bool = False
    writing: int = 0  # its messages being kept right now: not yet in the folder
    earliest_kept: str | None = None  # when the first of its kept messages came

    @property
    def idle(self) -> bool:
        """Nothing of it is in hand: forgetting it loses no message's place."""
        return not self.lock.locked() and not self.writing and self.earliest_kept is None


class Inbox:
    def __init__(self, engine: Engine, *, platform: str) -> None:
        self.engine = engine
        self.platform = platform
        self.settings = engine.db.settings
        self.folder = Path(self.settings.inbox_dir) / platform
        self._chats: dict[str, _Chat] = {}
        self._waiting: set[str] = set()  # chats with kept messages, by _chat_key
        self._unavailable_until = 0.0
        self._retry_at: dict[str, float] = {}  # a chat's next try after a failure
        self._sequence = itertools.count()
        self._wake: asyncio.Event | None = None
        self._drains: dict[str, asyncio.Task[int]] = {}  # chats being taken again
        self._threads = asyncio.Semaphore(DRAINING_AT_ONCE)
        self._lock: IO[str] | None = None
        self._confirming: set[asyncio.Future[None]] = set()
        self._stop = asyncio.Event()
        self._running: asyncio.Task[None] | None = None
        self._to_confirm: list[str] = []
        self._confirm_soon: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------ taking

    @property
    def unavailable(self) -> bool:
        """The database failed a moment ago and has not been seen working since."""
        return time.monotonic() < self._unavailable_until

    async def take(
        self, incoming: Incoming, send: Callable[[Answer], Awaitable[None]] | None = None
    ) -> Answer | Kept:
        """The message taken, or kept; ``send`` sends its replies in the chat's turn, so
        that the replies to two quick messages never overtake each other."""
        arrived = self._arrival()  # taken now: a kept message's place in its chat's line
        key = _chat_key(incoming.chat_id)
        chat = self._chat(key)
        if key in self._waiting:
            return await self._keep(incoming, key, arrived, "behind")
        if self.unavailable:
            return await self._keep(incoming, key, arrived, "database")
        if not chat.limiter.has_capacity():  # before the turn: a flood holds no request
            return await self._keep(incoming, key, arrived, "flood")
        await chat.limiter.acquire()
        async with chat.lock:  # FIFO: a chat's messages in the order they came
            if chat.earliest_kept is not None and chat.earliest_kept < arrived:
                # One that came before it was kept (it failed) while this one waited.
                return await self._keep(incoming, key, arrived, "behind")
            try:
                answer = await self.engine.db.run(partial(self.engine.handle, incoming))
            except Exception as error:
                return await self._keep(incoming, key, arrived, self._failed(error, incoming))
            if send is not None:
                await send(answer)
            return answer

    def confirmed(self, kept: Sequence[str]) -> None:
        """Replies that all went out, recorded in one transaction with the others sent in
        the same moment: one write for many messages, not one each. (A crash in that
        moment sends them again after the lease: twice, never none.)"""
        self._to_confirm.extend(kept)
        if self._confirm_soon is None:
            loop = asyncio.get_running_loop()
            self._confirm_soon = loop.call_later(CONFIRM_EVERY, self._confirm_batch)

    def _confirm_batch(self) -> None:
        self._confirm_soon = None
        kept, self._to_confirm = self._to_confirm, []
        if kept:
            self._keep_confirming(self.confirm(partial(self.engine.confirm, kept)))

    async def flush(self) -> None:
        """Record what was sent and is not yet recorded: before the process stops."""
        if self._confirm_soon is not None:
            self._confirm_soon.cancel()
        self._confirm_batch()
        if self._confirming:
            await asyncio.gather(*self._confirming, return_exceptions=True)

    async def confirm(self, settle: Callable[[], None]) -> None:
        """Record that replies went out. They did go out: when the database cannot take the
        record now, it is tried again in the background, before the lease ends and the
        dispatcher would send them a second time."""
        try:
            await self.engine.db.run(settle)
        except Exception as error:
            log.warning("confirming replies deferred: %s", error)
            self._keep_confirming(self._confirm_later(settle))

    def _keep_confirming(self, work: Coroutine[Any, Any, None]) -> None:
        """Confirmations run on beside the messages, and ``flush`` waits for them."""
        task = asyncio.ensure_future(work)
        self._confirming.add(task)
        task.add_done_callback(self._confirming.discard)

    async def _confirm_later(self, settle: Callable[[], None]) -> None:
        deadline = time.monotonic() + self.settings.reply_lease_seconds
        last: Exception | None = None
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            try:
                await asyncio.to_thread(settle)
                return
            except Exception as error:
                last = error
        log.error("replies sent but not confirmed: they may be sent again (%s)", last)

    def _chat(self, key: str) -> _Chat:
        chat = self._chats.get(key)
        if chat is None:
            period = self.settings.chat_burst / self.settings.chat_messages_per_second
            chat = _Chat(asyncio.Lock(), AsyncLimiter(self.settings.chat_burst, period))
            self._chats[key] = chat
            if len(self._chats) > 10_000:  # forget the quiet ones, oldest first
                for old in list(itertools.islice(self._chats, 1_000)):
                    if self._chats[old].idle:
                        del self._chats[old]
        return chat

    def _failed(self, error: Exception, incoming: Incoming) -> str:
        """Why the engine could not take the message, logged; the reason it was kept."""
        if isinstance(error, DBAPIError | Busy):
            self._unavailable_until = time.monotonic() + UNAVAILABLE_FOR
            log.warning(
                "message %s from %s:%s kept for later: the database cannot take it now (%s)",
                incoming.message_id,
                incoming.platform,
                incoming.chat_id,
                type(getattr(error, "orig", None) or error).__name__,
            )
            return "database"
        log.exception(
            "message %s from %s:%s failed; kept to be taken again",
            incoming.message_id,
            incoming.platform,
            incoming.chat_id,
        )
        return "error"

    def _busy_notice(self, chat: _Chat, incoming: Incoming) -> Reply | None:
        if chat.told_busy:
            return None
        chat.told_busy = True
        return Reply(translator(negotiate(incoming.language))(BUSY))

    def _wait_notice(self, chat: _Chat, incoming: Incoming) -> Reply | None:
        now = time.monotonic()
        if now - chat.asked_to_wait_at < ASK_TO_WAIT_EVERY:
            return None
        chat.asked_to_wait_at = now
        return Reply(translator(negotiate(incoming.language))(TOO_FAST))

    def _arrival(self) -> str:
        return f"{time.time_ns():020d}-{os.getpid()}-{next(self._sequence):09d}"

    async def _keep(self, incoming: Incoming, key: str, arrived: str, reason: str) -> Kept:
        chat = self._chat(key)
        self._waiting.add(key)  # at once: the chat's next message queues behind this one
        if chat.earliest_kept is None or arrived < chat.earliest_kept:
            chat.earliest_kept = arrived
        chat.writing += 1
        try:
            await asyncio.to_thread(self._write, incoming, f"{arrived}-{key}.json")
        finally:
            chat.writing -= 1
        INBOUND.labels(self.platform, f"kept_{reason}").inc()
        if reason != "flood":  # a flood is ordinary work, not an event worth a line each
            log.info("message %s kept in the inbox (%s)", incoming.message_id, reason)
        if self._wake is not None:
            self._wake.set()
        if reason == "flood":
            return Kept(self._wait_notice(chat, incoming))
        return Kept(self._busy_notice(chat, incoming))

    def _write(self, incoming: Incoming, name: str) -> None:
        """One file per message, complete on disk before the platform hears "received";
        named by when it came, so that a chat's files are taken in that order."""
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"received_at": time.time(), "incoming": asdict(incoming)}
        temporary = self.folder / f".{name}.tmp"
        with temporary.open("w", encoding="utf-8") as file:
            json.dump(record, file, ensure_ascii=False)
            file.flush()
            os.fsync(file.fileno())
        temporary.rename(self.folder / name)  # whole, or not there at all
        with contextlib.suppress(OSError):  # the name, too, survives a power cut
            directory = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    # ------------------------------------------------------------ draining

    def kept(self) -> list[Path]:
        """The messages waiting, oldest first."""
        try:
            return sorted(self.folder.glob("*.json"))
        except OSError:
            return []

    def start(self) -> None:
        """Drain in the background, from now until ``stop``: what a channel's start calls."""
        self._stop = asyncio.Event()
        self._running = asyncio.create_task(self.run(self._stop))

    async def stop(self) -> None:
        """Stop draining, and record what was sent: what a channel's stop calls."""
        if self._running is not None:
            self._stop.set()
            await self._running
            self._running = None

    async def run(self, stop: asyncio.Event, every: float = 1.0) -> None:
        """Until ``stop``: take what is kept, waking when something is kept, or every
        ``every`` seconds (another process on this folder may have kept something)."""
        self._wake = asyncio.Event()
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    self._start_draining()
                except Exception:
                    log.exception("draining the %s inbox failed", self.platform)
                pause = min(every, 0.25) if self._waiting else every
                waiters = [
                    asyncio.ensure_future(self._wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                ]
                await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        finally:
            for task in self._drains.values():
                task.cancel()
            await asyncio.gather(*self._drains.values(), return_exceptions=True)
            await self.flush()
            self._release_lock()

    async def drain(self) -> int:
        """Take again what was kept, now, each chat's in order; how many were taken."""
        self._retry_at.clear()
        self._start_draining()
        taken = await asyncio.gather(*self._drains.values())
        return sum(taken)

    def _start_draining(self) -> None:
        files = self.kept()
        by_chat: dict[str, list[Path]] = {}
        for path in files:
            by_chat.setdefault(path.stem.rsplit("-", 1)[-1], []).append(path)
        # Another process may hold the rest of a chat: its new messages queue behind them.
        writing = {key for key, chat in self._chats.items() if chat.writing}
        self._waiting = set(by_chat) | set(self._drains) | writing
        INBOX_WAITING.labels(self.platform).set(len(files))
        for key, chat in self._chats.items():
            if key not in self._waiting:
                chat.told_busy = False
            if key in by_chat:
                chat.earliest_kept = by_chat[key][0].stem.rsplit("-", 1)[0]
            elif not chat.writing and key not in self._drains:
                chat.earliest_kept = None
        if not files or not self._hold_lock():
            return  # nothing kept, or another process on this folder is draining it
        now = time.monotonic()
        for key, paths in by_chat.items():
            if key in writing:
                continue  # one of its messages is still being written: then all, in order
            if key not in self._drains and self._retry_at.get(key, 0.0) <= now:
                task = asyncio.create_task(self._drain_chat(key, paths))
                self._drains[key] = task
                task.add_done_callback(partial(self._drained, key))

    def _drained(self, key: str, task: asyncio.Task[int]) -> None:
        self._drains.pop(key, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("taking the kept messages of a %s chat failed", self.platform, exc_info=error)

    def _hold_lock(self) -> bool:
        """One process drains a folder at a time: the first to lock it, until it stops
        (or dies, when the lock goes with it)."""
        if self._lock is not None:
            return True
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = (self.folder / ".draining").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            return False
        self._lock = lock
        return True

    def _release_lock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    async def _drain_chat(self, key: str, paths: list[Path]) -> int:
        chat = self._chat(key)
        taken = 0
        for path in paths:
            async with chat.lock:
                try:
                    record = json.loads(path.read_text(encoding="utf-8"))
                    incoming = _incoming(record["incoming"])
                except FileNotFoundError:
                    continue  # taken by the process that drained before this one
                except (OSError, ValueError, KeyError, TypeError) as unreadable:
                    # Not written whole (the rename prevents that) or edited by hand.
                    log.error("inbox file %s unreadable, set aside: %s", path.name, unreadable)
                    path.rename(path.with_suffix(".unreadable"))
                    continue
                await chat.limiter.acquire()  # a flood is taken at a person's pace
                try:
                    async with self._threads:
                        answer = await asyncio.to_thread(self.engine.handle, incoming)
                except Exception as error:
                    reason = self._failed(error, incoming)
                    if not await self._maybe_give_up(path, record, incoming, reason):
                        pause = UNAVAILABLE_FOR if reason == "database" else RETRY_AFTER_ERROR
                        self._retry_at[key] = time.monotonic() + pause
                        return taken  # the chat's later messages wait behind this one
                    continue
                self._unavailable_until = 0.0  # it works again
                await asyncio.to_thread(self._deliver, answer)
                path.unlink(missing_ok=True)
                self._retry_at.pop(key, None)
                taken += 1
                INBOUND.labels(self.platform, "taken_again").inc()
        return taken

    def _deliver(self, answer: Answer) -> None:
        """The replies to a message taken late go through the outbox, at once."""
        self.engine.settle(answer, sent=0, reason="answering a message kept in the inbox")

    async def _maybe_give_up(
        self, path: Path, record: dict[str, Any], incoming: Incoming, reason: str
    ) -> bool:
        received_at = float(record.get("received_at") or time.time())
        if time.time() - received_at < self.settings.inbox_give_up_hours * 3600:
            return False
        try:
            await asyncio.to_thread(self._apologise, incoming, received_at)
        except Exception:
            log.exception("could not apologise for message %s", incoming.message_id)
            return False  # keep it: the apology is owed too
        log.error(
            "message %s from %s:%s given up after %s hours (%s)",
            incoming.message_id,
            incoming.platform,
            incoming.chat_id,
            self.settings.inbox_give_up_hours,
            reason,
        )
        path.rename(path.with_suffix(".given-up"))  # kept for whoever investigates
        INBOUND.labels(self.platform, "given_up").inc()
        return True

    def _apologise(self, incoming: Incoming, received_at: float) -> None:
        t = translator(negotiate(incoming.language))
        when = format_local(datetime.fromtimestamp(received_at, UTC), self.settings.tz)
        with self.engine.db.transaction() as session:
            outbox.to_chat(
                session=session,
                platform=incoming.platform,
                chat_id=incoming.chat_id,
                text=t(GIVEN_UP, time=when),
            )
