"""The kinds of question a flow asks, each with its own validation and re-prompt.

A step asks (appends its prompt to the replies) and takes an answer: it returns
the name of the next step, ``None`` when the flow is over, or ``STAY`` to wait
for more (photos). A ``DomainError`` raised while taking an answer is shown to
the person, and the same question is asked again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from conversations.messages import Button, Incoming, Reply
from storage.clock import local_date, utcnow
from storage.config import Settings
from storage.errors import InvalidInput
from storage.i18n import LOCALES, N_, Msg, Translator, translator
from storage.people import service as people
from storage.people.models import Person, StaffMember
from storage.text import required

STAY = "\x00stay"
Next = str | None


@dataclass
class Context:
    """One message's view of the conversation: who, in which language, what was answered."""

    session: Session
    settings: Settings
    incoming: Incoming
    person: Person | None
    t: Translator
    data: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    # Set by a flow that changes who the person is (binding) or wants the menu shown after.
    show_menu: bool = False
    # Asked by most flows' ``allowed`` for every message and menu, answered once per person.
    _residents: dict[int, bool] = field(default_factory=dict, repr=False)

    def say(self, text: str | Msg, buttons: Sequence[Button] = (), **params: object) -> None:
        self.replies.append(Reply(self.t(text, **params), tuple(buttons)))

    @property
    def me(self) -> Person:
        if self.person is None:  # the engine routes unbound people to binding only
            raise InvalidInput("请先绑定您的身份")
        return self.person

    @property
    def post(self) -> StaffMember | None:
        if self.person is None:
            return None
        return next((p for p in self.person.staff_posts if p.active), None)

    @property
    def resident(self) -> bool:
        """The person lives in a unit here (owner, tenant or family)."""
        if self.person is None:
            return False
        known = self._residents.get(self.person.id)
        if known is None:
            known = people.has_residency(session=self.session, person_id=self.person.id)
            self._residents[self.person.id] = known
        return known

    def knows_resident(self, person: Person, resident: bool) -> None:
        self._residents[person.id] = resident

    def today(self) -> date:
        return local_date(utcnow(), self.settings.tz)


@dataclass(frozen=True)
class Option:
    key: str
    label: str  # a message id, translated when shown
    translate: bool = True  # False for names, ticket numbers, places

    def shown(self, t: Translator) -> str:
        return t(self.label) if self.translate else self.label


Text = str | Msg | Callable[[Context], str | Msg]
Options = Sequence[Option] | Callable[[Context], Sequence[Option]]


def _text(ctx: Context, text: Text) -> str:
    value = text(ctx) if callable(text) else text
    return ctx.t(value)


def _matches(said: str, option: Option) -> bool:
    """A typed answer names an option by its key or its label in any language."""
    wanted = said.strip().casefold()
    if not wanted:
        return False
    if wanted == option.key.casefold():
        return True
    labels = {option.label} | (
        {translator(locale)(option.label) for locale in LOCALES} if option.translate else set()
    )
    return wanted in {label.casefold() for label in labels}


@dataclass(frozen=True)
class Choose:
    name: str
    prompt: Text
    options: Options
    then: Callable[[Context, str], Next]

    def _options(self, ctx: Context) -> Sequence[Option]:
        return self.options(ctx) if callable(self.options) else self.options

    def ask(self, ctx: Context) -> None:
        buttons = [Button(o.key, o.shown(ctx.t)) for o in self._options(ctx)]
        ctx.replies.append(Reply(_text(ctx, self.prompt), tuple(buttons)))

    def take(self, ctx: Context) -> Next:
        options = self._options(ctx)
        said = ctx.incoming.said
        key: str | None = None
        if ctx.incoming.button is not None:
            key = next((o.key for o in options if o.key == ctx.incoming.button), None)
        elif said.isdigit() and 1 <= int(said) <= len(options):
            key = options[int(said) - 1].key
        else:
            key = next((o.key for o in options if _matches(said, o)), None)
        if key is None:
            raise InvalidInput("请回复 1-{count} 中的数字，或点选按钮", count=len(options))
        return self.then(ctx, key)


YES = Option("yes", N_("是"))
NO = Option("no", N_("否"))
CONFIRM = Option("confirm", N_("确认提交"))
SKIP = Option("skip", N_("跳过"))
DONE = Option("done", N_("完成"))


def confirm_step(name: str, summary: Text, then: Callable[[Context], Next]) -> Choose:
    """The last question of every flow that writes: nothing is stored before it."""

    def decided(ctx: Context, key: str) -> Next:
        if key == CONFIRM.key:
            return then(ctx)
        ctx.say("已取消，没有保存任何内容。")
        return None

    return Choose(name, summary, [CONFIRM, Option("cancel", N_("取消"))], decided)


@dataclass(frozen=True)
class AskText:
    name: str
    prompt: Text
    then: Callable[[Context, str], Next]
    what: str = N_("内容")  # named in the "please fill in …" re-prompt
    max_length: int = 500
    skippable: bool = False

    def ask(self, ctx: Context) -> None:
        buttons = (Button(SKIP.key, ctx.t(SKIP.label)),) if self.skippable else ()
        ctx.replies.append(Reply(_text(ctx, self.prompt), buttons))

    def take(self, ctx: Context) -> Next:
        if self.skippable and (
            ctx.incoming.button == SKIP.key or _matches(ctx.incoming.said, SKIP)
        ):
            return self.then(ctx, "")
        if ctx.incoming.button is not None:
            raise InvalidInput("这里需要您输入文字")
        if not ctx.incoming.said and (ctx.incoming.photos or ctx.incoming.voice):
            raise InvalidInput("这里需要您输入文字（语音未能识别）")
        return self.then(ctx, required(ctx.incoming.said, self.what, max_length=self.max_length))


@dataclass(frozen=True)
class AskPhotos:
    """Any number of photos, sent one by one or as an album, until 完成 (or 跳过)."""

    name: str
    prompt: Text
    then: Callable[[Context], Next]

    def ask(self, ctx: Context) -> None:
        buttons = (Button(DONE.key, ctx.t(DONE.label)), Button(SKIP.key, ctx.t(SKIP.label)))
        ctx.replies.append(Reply(_text(ctx, self.prompt), buttons))

    def take(self, ctx: Context) -> Next:
        incoming = ctx.incoming
        if incoming.photos:
            photos = ctx.data.setdefault("photos", [])
            photos.extend(incoming.photos)
            ctx.say(
                "已收到 {count} 张照片。可以继续发送，或点「完成」。",
                [Button(DONE.key, ctx.t(DONE.label))],
                count=len(photos),
            )
            return STAY
        if incoming.button in (DONE.key, SKIP.key) or any(
            _matches(incoming.said, o) for o in (DONE, SKIP)
        ):
            return self.then(ctx)
        raise InvalidInput("这里需要照片：请发送照片，或点「完成」继续")


_DATE = re.compile(r"^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?$")


@dataclass(frozen=True)
class AskDate:
    """A day: 2026-12-05, 12-05, 12月5日, or a number of days from today."""

    name: str
    prompt: Text
    then: Callable[[Context, date], Next]
    quick_days: tuple[int, ...] = (3, 7, 14)

    def ask(self, ctx: Context) -> None:
        buttons = tuple(
            Button(f"d{days}", ctx.t("{days}天后", days=days)) for days in self.quick_days
        )
        ctx.replies.append(Reply(_text(ctx, self.prompt), buttons))

    def take(self, ctx: Context) -> Next:
        today = ctx.today()
        button, said = ctx.incoming.button, ctx.incoming.said
        day: date | None = None
        if button is not None and button.startswith("d") and button[1:].isdigit():
            day = today + timedelta(days=int(button[1:]))
        elif said.isdigit() and 0 < int(said) <= 366:
            day = today + timedelta(days=int(said))
        elif match := _DATE.match(said.replace(" ", "")):
            year = int(match[1]) if match[1] else today.year
            try:
                day = date(year, int(match[2]), int(match[3]))
            except ValueError:
                day = None
            if day is not None and not match[1] and day < today:
                day = day.replace(year=year + 1)  # "1-5" in December means next January
        if day is None:
            raise InvalidInput("日期格式不对，请输入如 2026-12-05、12-05，或天数如 7")
        if day <= today:
            raise InvalidInput("请选择今天以后的日期")
        return self.then(ctx, day)


Step = Choose | AskText | AskPhotos | AskDate


@dataclass(frozen=True)
class Flow:
    """A conversation declared once for every platform: entry words, who may, the steps."""

    key: str
    title: str  # message id shown in menus and help; typing it (in any language) starts the flow
    steps: Sequence[Step]
    start: Callable[[Context], Next]
    allowed: Callable[[Context], bool]
    collects_photos: bool = False

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"flow {self.key} has no step {name}")

    def matches(self, said: str) -> bool:
        return _matches(said.lstrip("/"), Option(self.key, self.title))


def remember(
    key: str, following: Next, convert: Callable[[Any], Any] = lambda value: value
) -> Callable[[Context, Any], Next]:
    """The usual answer to a question: keep it (converted) under ``key``, go on to ``following``."""

    def then(ctx: Context, value: Any) -> Next:
        ctx.data[key] = convert(value)
        return following

    return then


def unless_empty(
    options: Callable[[Context], Sequence[Option]], empty: str, following: str
) -> Callable[[Context], Next]:
    """Start a pick-from-a-list flow, or say ``empty`` and end when there is nothing to pick."""

    def start(ctx: Context) -> Next:
        if not options(ctx):
            ctx.say(empty)
            return None
        return following

    return start
