"""The outbox dispatcher: notices written by the services, sent through each person's channels.

Every notice is claimed with a lease before it is sent, so two processes never send
the same one. A person is tried on their chat accounts in turn, a preferred channel
(the company's WeCom) first; a refusal on every one (blocked bot, unfollowed) is
recorded with its reasons, anything else is retried with growing pauses.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from bot.channel import Channel, Refused
from bot.metrics import NOTICES
from conversations.engine import as_reply, offer
from conversations.messages import Reply
from storage.clock import utcnow
from storage.database import Database
from storage.identity import service as identity
from storage.outbox import service as outbox

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
# Seconds: what was sent in this moment is recorded together, one write for many notices,
# not one each. A crash in it sends them again after the lease: twice, never none.
RECORD_EVERY = 0.05


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


class Dispatcher:
    def __init__(self, db: Database, channels: Sequence[Channel]) -> None:
        self.db = db
        self.channels = {channel.platform: channel for channel in channels}
        self.wake = asyncio.Event()

    async def run_once(self, limit: int = 50) -> int:
        """Send what is due; returns how many notices were delivered."""
        batch = await self.db.run(partial(self._claim, limit))
        sent = 0
        outcomes: list[outbox.Outcome] = []
        offered: list[tuple[tuple[str, str], Reply]] = []
        recorded_at = time.monotonic()
        for message_id, attempts, reply, chats in batch:
            reason, retry, reached = await self._deliver(reply, chats, attempts)
            retry_at = utcnow() + backoff(attempts) if reason is not None and retry else None
            outcomes.append(outbox.Outcome(message_id, reason, retry_at))
            if reason is None:
                sent += 1
                if reply.buttons and reached is not None:
                    offered.append((reached, reply))
                if time.monotonic() - recorded_at >= RECORD_EVERY:
                    await self.db.run(partial(self._record, outcomes, offered))
                    outcomes, offered, recorded_at = [], [], time.monotonic()
        if outcomes:
            await self.db.run(partial(self._record, outcomes, offered))
        return sent

    def _record(
        self, outcomes: list[outbox.Outcome], offered: list[tuple[tuple[str, str], Reply]]
    ) -> None:
        """What a stretch of sending came to, in one transaction; the buttons a notice
        offered, to be pressed by number (``offer``)."""
        with self.db.transaction() as session:
            outbox.settle(session=session, outcomes=outcomes)
            for (platform, chat_id), reply in offered:
                offer(session=session, platform=platform, chat_id=chat_id, buttons=reply.buttons)

    def _claim(self, limit: int) -> list[tuple[int, int, Reply, list[tuple[str, str]]]]:
        now = utcnow()
        with self.db.transaction() as session:
            claimed = outbox.claim(session=session, now=now, lease=LEASE, limit=limit)
            accounts = identity.identities_of_each(  # everyone's in one query
                session=session,
                person_ids=[m.recipient_id for m in claimed if m.recipient_id is not None],
            )
            batch = []
            for message in claimed:
                if message.platform is not None and message.chat_id is not None:
                    chats = [(message.platform, message.chat_id)]  # a group chat
                elif message.recipient_id is not None:
                    chats = [
                        (i.platform, i.external_id) for i in accounts.get(message.recipient_id, [])
                    ]
                else:
                    chats = []
                chats = sorted(  # a preferred channel first; else the latest account first
                    ((platform, chat) for platform, chat in chats if platform in self.channels),
                    key=lambda target: not self.channels[target[0]].preferred,
                )
                batch.append((message.id, message.attempts, as_reply(message), chats))
        return batch

    async def _deliver(
        self, reply: Reply, chats: list[tuple[str, str]], attempts: int
    ) -> tuple[str | None, bool, tuple[str, str] | None]:
        """(None, _, the chat reached) when delivered; else the reason and whether to try
        again later."""
        if not chats:
            return "no chat account to reach this person", attempts < MAX_ATTEMPTS, None
        reasons = []
        for platform, chat_id in chats:
            try:
                await self.channels[platform].send(chat_id, reply)
                NOTICES.labels(platform, "sent").inc()
                return None, False, (platform, chat_id)
            except Refused as refused:
                NOTICES.labels(platform, "refused").inc()
                reasons.append(f"{platform}: {refused}")
            except Exception as error:  # a network error, a 5xx: worth another try
                NOTICES.labels(platform, "deferred").inc()
                log.warning("sending notice via %s failed: %s", platform, error)
                return f"{platform}: {error}", attempts < MAX_ATTEMPTS, None
        return "; ".join(reasons), False, None

    async def run(self, stop: asyncio.Event, every: float = 2.0) -> None:
        """Until ``stop``: send what is due, then sleep until a commit queues a notice (from
        a chat, the clock or a late WeChat reply) or ``every`` seconds pass (for retries and
        for notices another process queued)."""
        loop = asyncio.get_running_loop()

        def wake() -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(self.wake.set)

        stop_waking = outbox.when_queued(db=self.db, callback=wake)
        try:
            await self._run(stop, every)
        finally:
            stop_waking()

    async def _run(self, stop: asyncio.Event, every: float) -> None:
        while not stop.is_set():
            # Cleared before the round, not after: a notice committed while this round sends
            # wakes the next one at once instead of waiting ``every`` seconds.
            self.wake.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox dispatch failed")
            waiters = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=every, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
