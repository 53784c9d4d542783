"""The engine: one incoming message in, replies out, conversation state in the database.

Each message is handled in one transaction that locks the conversation's row,
so one person's messages are taken one at a time, on any worker. A message is
handled once (its id is recorded in the same transaction), a flow's writes
happen only at its confirm step, and a crash rolls everything back.

The replies are written in that same transaction, to the outbox, addressed to the
chat and leased to the channel that sends them after the commit and confirms them
(``settle``). A crash between the commit and the send leaves them there: the
platform's redelivery of the message gets them, or the dispatcher sends them when
the lease runs out; never none, and once.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.orm import Session

from conversations.attachments import tell_refused
from conversations.messages import Button, Incoming, Reply
from conversations.steps import (
    CHOSEN_LOCALE,
    STAY,
    WORDS,
    AskPhotos,
    Context,
    Flow,
    Next,
    Option,
    matches,
)
from storage.chat import service as chat
from storage.clock import utcnow
from storage.database import Database, is_disconnect
from storage.driver import together
from storage.errors import DomainError, InvalidInput
from storage.i18n import N_, Msg, negotiate, translator
from storage.outbox import service as outbox
from storage.outbox.models import OutboxMessage

log = logging.getLogger(__name__)

CANCEL = Option("cancel", N_("取消"))
HELP = Option("help", N_("帮助"))
MENU = Option("menu", N_("菜单"))
START = Option("start", N_("开始"))
# The last menu's entries, so that on a text-only platform "2" picks the second one.
MENU_KEY = "_menu"
# A notice's buttons that reached the chat in the middle of a flow: the next message, when
# it is one of their numbers, presses that button, as the notice is the last list the person
# read. Any other next message answers the flow, and the notice's numbers lapse.
OFFERED_KEY = "_offered"
KEPT = (CHOSEN_LOCALE, MENU_KEY, WORDS)
# A message this long or longer that names no flow is a sentence ("马桶堵了"): it is asked
# about; a shorter one ("好的", "谢谢") is not.
SENTENCE = 4
# Where the conversation stands after a message: the flow and its step, or nowhere.
Position = tuple[Flow | None, str | None]


def _is(incoming: Incoming, *options: Option) -> bool:
    said = incoming.said.lstrip("/")
    return any(
        incoming.button == f"/{o.key}" or (incoming.button is None and matches(said, o))
        for o in options
    )


def _numbered(said: str, keys: Sequence[str]) -> str | None:
    """The key a typed number picks from a numbered list (how WeChat shows buttons)."""
    return keys[int(said) - 1] if said.isdigit() and 1 <= int(said) <= len(keys) else None


def _start_argument(incoming: Incoming) -> str:
    """What follows /start (a deep link's or a QR code's payload), or ""."""
    command, _, argument = incoming.said.partition(" ")
    if incoming.button is not None or command.casefold() != f"/{START.key}":
        return ""
    return argument.strip()


@dataclass(frozen=True)
class Answer:
    """The replies to one message, and the outbox rows keeping them until they are sent."""

    replies: tuple[Reply, ...] = ()
    kept: tuple[str, ...] = ()  # each reply's key in the outbox, in the same order

    @classmethod
    def of(cls, rows: Sequence[OutboxMessage]) -> Answer:
        return cls(
            tuple(as_reply(row) for row in rows),
            tuple(row.idempotency_key or "" for row in rows),
        )


def as_reply(row: OutboxMessage) -> Reply:
    """A reply or a notice as it was written to the outbox."""
    images = row.params.get("images") or ([row.params["image"]] if "image" in row.params else [])
    return Reply(
        row.text,
        tuple(Button(key, label) for key, label in row.buttons or ()),
        tuple(images),
    )


def answering(incoming: Incoming) -> str:
    """The name the outbox knows a message by: its replies' keys are made from it
    (``outbox.reply_key``), and kept as their ``in_reply_to``."""
    return f"{incoming.platform}:{incoming.chat_id}:{incoming.message_id}"


def offer(*, session: Session, platform: str, chat_id: str, buttons: Sequence[Button]) -> None:
    """A notice with buttons reached a private chat: on a platform that shows buttons as a
    numbered list (WeChat), the next number typed presses one of them, as it would the last
    menu's, outside a flow or in one."""
    conversation = chat.conversation_of(session=session, platform=platform, chat_id=chat_id)
    if conversation is not None:
        key = MENU_KEY if conversation.flow is None else OFFERED_KEY
        conversation.data = {**conversation.data, key: [button.key for button in buttons]}


def commands_of(flows: Iterable[Flow]) -> list[Option]:
    """What a platform lists as its commands or its menu, in this order: the flows that are
    commands, then help and cancel."""
    return [*(Option(flow.key, flow.title) for flow in flows if flow.command), HELP, CANCEL]


class Engine:
    def __init__(self, db: Database, flows: Sequence[Flow]) -> None:
        self.db = db
        self.flows = {flow.key: flow for flow in flows}
        greeters = [flow for flow in flows if flow.greets_strangers]
        if len(greeters) != 1:
            raise ValueError("exactly one flow greets strangers (binding)")
        self.greeting = greeters[0]

    def handle(self, incoming: Incoming) -> Answer:
        """Take one message: its step and its replies committed together. Raises when it
        cannot be taken now (the database busy or down, a bug); nothing of it was kept."""
        for attempt in (1, 2):
            try:
                with self.db.transaction() as session:
                    return self._handle(session, incoming)
            except Exception as error:
                if attempt == 1 and is_disconnect(error):
                    # A restarted server or a failover: nothing was kept, so the message is
                    # taken again on a fresh connection. (Had the lost commit landed, the
                    # message is now seen, and the second try finds its replies.)
                    log.warning(
                        "message %s taken again: its database connection was lost",
                        incoming.message_id,
                    )
                    continue
                raise
        raise AssertionError("unreachable")

    def settle(
        self,
        answer: Answer,
        *,
        sent: int,
        reason: str = "",
        refused: bool = False,
    ) -> None:
        """After sending: the first ``sent`` replies confirmed; the rest handed to the
        dispatcher (``reason``), or given up when the chat refuses messages."""
        if not answer.kept:
            return
        done, rest = answer.kept[:sent], answer.kept[sent:]
        if not rest:
            self.confirm(done)
            return
        with self.db.transaction() as session:
            outbox.delivered_all(session=session, replies=done)
            unsent = outbox.give_up if refused else outbox.release
            unsent(session=session, replies=rest, reason=reason)

    def confirm(self, kept: Sequence[str]) -> None:
        """These replies (of any messages, by their keys) went out."""
        with self.db.transaction() as session:
            outbox.delivered_all(session=session, replies=kept)

    def apology(self, incoming: Incoming) -> Reply:
        """What a person reads when their message failed and nothing keeps it for later."""
        t = translator(negotiate(incoming.language))
        return Reply(t("抱歉，系统出了点问题，刚才的消息没有处理。请稍后再发一次。"))

    # ------------------------------------------------------------ one message

    def _handle(self, session: Session, incoming: Incoming) -> Answer:
        lease = timedelta(seconds=self.db.settings.reply_lease_seconds)
        if not chat.first_sighting(
            session=session,
            platform=incoming.platform,
            chat_id=incoming.chat_id,
            message_id=incoming.message_id,
        ):
            # A redelivery: answered already, unless its replies were never confirmed sent.
            unsent = outbox.take_unsent(session=session, answering=answering(incoming), lease=lease)
            return Answer.of(unsent)
        if incoming.opens_window:
            chat.note_inbound(session=session, platform=incoming.platform, chat_id=incoming.chat_id)
        arrival = chat.arrive(
            session=session,
            platform=incoming.platform,
            chat_id=incoming.chat_id,
            user_id=incoming.user_id,
        )
        person, conversation = arrival.person, arrival.conversation
        data = conversation.data
        locale = (
            person.locale if person else data.get(CHOSEN_LOCALE) or negotiate(incoming.language)
        )
        ctx = Context(
            session=session,
            settings=self.db.settings,
            incoming=incoming,
            person=person,
            t=translator(locale),
            data=data,
        )
        tell_refused(ctx)  # a photo or voice note the channel did not keep, and why
        if person is not None:
            ctx.knows_resident(person, arrival.resident)
        flow = self.flows.get(conversation.flow or "")
        step = conversation.step
        if flow is not None and not flow.allowed(ctx):
            flow, step = None, None  # e.g. binding, once the desk has approved it meanwhile
        if flow is not None and step is not None and not flow.has_step(step):
            # A new version of wuye changed this flow while the person was in it.
            ctx.say("「{flow}」已更新，请重新开始。", flow=Msg(flow.title))
            flow, step = None, None
        idle = timedelta(minutes=self.db.settings.conversation_idle_minutes)
        if flow is not None and utcnow() - conversation.updated_at > idle:
            ctx.say(
                "您上次的「{flow}」超过 {minutes} 分钟没有回复，已自动取消，没有保存任何内容。",
                flow=Msg(flow.title),
                minutes=self.db.settings.conversation_idle_minutes,
            )
            flow, step = None, None

        argument = _start_argument(incoming)
        if _is(incoming, CANCEL):
            if flow is not None:
                ctx.say("已取消「{flow}」，没有保存任何内容。", flow=Msg(flow.title))
            else:
                ctx.say("当前没有进行中的操作。")
            flow, step = None, None
            ctx.show_menu = True
        elif argument and ctx.person is None:
            # /start with what a link or a QR code carries (a binding code): binding takes
            # it at once, whatever the stranger was doing.
            flow, step = self._start(ctx, self.greeting, argument)
        elif _is(incoming, HELP, MENU, START) and ctx.person is None and flow is None:
            flow, step = self._start(ctx, self.greeting)  # /start: the first thing anyone sends
        elif argument:
            ctx.show_menu = True  # a bound person scanning the poster again: their menu
        elif _is(incoming, HELP, MENU, START):
            ctx.show_menu = True
            if flow is not None and step is not None:
                ctx.say(
                    "（您正在「{flow}」中，可以继续回答，或发送「取消」退出。）",
                    flow=Msg(flow.title),
                )
                flow.step(step).ask(ctx)
        elif flow is not None and step is not None and not self._pressed(ctx, flow, step):
            flow, step = self._take(ctx, flow, step)
        else:
            left = flow
            flow, step = self._route(ctx)
            if left is not None and left is not flow and left.listed:
                # Another flow (a menu button, a notice's 接单) took over: say what was left.
                ctx.replies.insert(
                    0, Reply(ctx.t("（已离开「{flow}」，没有保存。）", flow=Msg(left.title)))
                )

        if ctx.show_menu:
            self._menu(ctx)
        ctx.data.pop(OFFERED_KEY, None)  # for the next message only: then it is answered
        keep = {key: ctx.data[key] for key in KEPT if key in ctx.data}
        with together(session):  # where it stands and what it answers: one round trip
            chat.save(
                session=session,
                conversation_id=conversation.id,
                flow=flow.key if flow is not None else None,
                step=step if flow is not None else None,
                data=ctx.data if flow is not None else keep,
            )
            kept = outbox.keep_replies(
                session=session,
                platform=incoming.platform,
                chat_id=incoming.chat_id,
                answering=answering(incoming),
                replies=[
                    (reply.text, [(b.key, b.label) for b in reply.buttons], reply.images)
                    for reply in ctx.replies
                ],
                lease=lease,
            )
        return Answer(tuple(ctx.replies), tuple(kept))

    def _pressed(self, ctx: Context, flow: Flow, name: str) -> Flow | None:
        """The flow a message starts in the middle of another, if any. A number answering
        a question with buttons presses that button first: on a platform without buttons
        (WeChat) they are shown as a numbered list, and a button may start a flow."""
        incoming = ctx.incoming
        said = incoming.said
        shown = flow.step(name).buttons(ctx)
        if incoming.button is None:
            # A notice that came after the question is the list the person read last.
            if (key := _numbered(said, ctx.data.get(OFFERED_KEY) or [])) is not None:
                ctx.incoming = replace(incoming, button=key, text="")
            elif (key := _numbered(said, [button.key for button in shown])) is not None:
                ctx.incoming = replace(incoming, button=key)
        command = self._command(ctx)
        if command is not None or ctx.incoming.button is not None:
            return command
        if any(matches(said, Option(b.key, b.label, translate=False)) for b in shown):
            return None  # the answer names one of the question's own buttons
        # A menu item typed by name (维修工单, 报修) means that, not an answer to this question:
        # nobody's 上门时间 is "维修工单".
        for other in self.flows.values():
            if other.listed and other.matches(said) and other.allowed(ctx):
                return other
        return None

    def _command(self, ctx: Context) -> Flow | None:
        """A menu button or a typed /command starts another flow even in the middle of one."""
        key = ctx.incoming.button or (
            ctx.incoming.said if ctx.incoming.said.startswith("/") else ""
        )
        if not key.startswith("/"):
            return None
        return self.flows.get(key[1:].split(" ", 1)[0])

    # ------------------------------------------------------------ steps

    def _take(self, ctx: Context, flow: Flow, name: str) -> Position:
        step = flow.step(name)
        incoming = ctx.incoming
        if incoming.photos and flow.collects_photos and not isinstance(step, AskPhotos):
            photos = ctx.data.setdefault("photos", [])
            photos.extend(incoming.photos)  # e.g. the rest of an album: all in one ticket
            ctx.say("已收到照片（共 {count} 张），会附在这张单上。", count=len(photos))
            if not incoming.said:
                return flow, name
        saved = copy.deepcopy(ctx.data)
        try:
            with ctx.session.begin_nested():
                following = step.take(ctx)
        except InvalidInput as error:
            ctx.data = saved
            ctx.say(error.message)
            return self._ask(ctx, flow, name)
        except DomainError as error:
            _refused(ctx, flow, name, error)
            return None, None
        return self._advance(ctx, flow, following, name)

    def _advance(self, ctx: Context, flow: Flow, following: Next, current: str | None) -> Position:
        if following is None:
            return None, None
        if following == STAY:
            return flow, current
        return self._ask(ctx, flow, following)

    def _ask(self, ctx: Context, flow: Flow, name: str) -> Position:
        """Ask step ``name``. What it asks about may have gone meanwhile (the owner answered
        the callback the desk is recording, another technician took the order): the person
        reads why and the flow ends, rather than the message failing on every answer."""
        shown = len(ctx.replies)
        try:
            flow.step(name).ask(ctx)  # asking reads, it writes nothing: no savepoint needed
        except DomainError as error:
            del ctx.replies[shown:]  # no half-asked question
            _refused(ctx, flow, name, error)
            return None, None
        return flow, name

    def _start(self, ctx: Context, flow: Flow, argument: str = "") -> Position:
        if not flow.allowed(ctx):
            ctx.say("您没有权限使用「{flow}」。", flow=Msg(flow.title))
            ctx.show_menu = True
            return None, None
        ctx.data = {key: v for key, v in ctx.data.items() if key in KEPT}
        if argument:
            ctx.data["argument"] = argument
        try:
            with ctx.session.begin_nested():
                following = flow.start(ctx)
        except DomainError as error:
            _refused(ctx, flow, None, error)
            return None, None
        return self._advance(ctx, flow, following, None)

    # ------------------------------------------------------------ no flow yet

    def _route(self, ctx: Context) -> Position:
        incoming = ctx.incoming
        said = incoming.said
        # A number answering the last menu, on a platform without buttons (WeChat).
        key = _numbered(said, ctx.data.get(MENU_KEY) or []) if incoming.button is None else None
        if key is not None:
            incoming = ctx.incoming = replace(incoming, button=key, text="")
        command = self._command(ctx)
        if command is not None:
            key = incoming.button or incoming.said
            argument = key.split(" ", 1)[1] if " " in key else ""
            if ctx.person is None and not command.open_to_strangers:
                return self._start(ctx, self.greeting)
            return self._start(ctx, command, argument)
        if ctx.person is None:
            for flow in self.flows.values():
                if flow.open_to_strangers and flow.matches(incoming.said):
                    return self._start(ctx, flow)
            return self._start(ctx, self.greeting)
        for flow in self.flows.values():
            if flow.matches(incoming.said) and flow.allowed(ctx):
                return self._start(ctx, flow)
        if incoming.photos or incoming.voice:
            for flow in self.flows.values():
                if flow.starts_on_media and flow.allowed(ctx):
                    return self._start(ctx, flow)  # a picture first: offer to report it
        if len(said.strip()) >= SENTENCE and not said.isdigit():
            for flow in self.flows.values():
                if flow.starts_on_words and flow.allowed(ctx):
                    return self._start(ctx, flow)  # a sentence: ask what it is about
        if incoming.said:
            ctx.say("没有听懂「{said}」。", said=incoming.said[:50])
        ctx.show_menu = True
        return None, None

    def _menu(self, ctx: Context) -> None:
        if ctx.person is None:
            return
        buttons = [
            Button(f"/{flow.key}", ctx.t(flow.title))
            for flow in self.flows.values()
            if flow.listed and not flow.greets_strangers and flow.allowed(ctx)
        ]
        ctx.replies.append(
            Reply(
                ctx.t(
                    "{name}，您可以选择以下功能（随时发送「取消」退出当前操作）：",
                    name=ctx.person.name,
                ),
                tuple(buttons),
            )
        )
        ctx.data[MENU_KEY] = [button.key for button in buttons]


def _refused(ctx: Context, flow: Flow, step: str | None, error: DomainError) -> None:
    """The procedures do not allow what was asked: the person reads why, and the log says
    where, so that an action offered and then refused is found (it is a mistake)."""
    ctx.say(error.message)
    log.info(
        "refused in %s/%s: %s",
        flow.key,
        step or "start",
        error,
        extra={"flow": flow.key, "step": step, "refusal": type(error).__name__},
    )
