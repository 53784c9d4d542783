"""The kinds of question a flow asks, each with its own validation and re-prompt, and the
steps several flows share (a place or a location; a satisfaction and a remark).

A step asks (appends its prompt to the replies) and takes an answer. What it does with
the answer is a ``Then``: a function that returns the name of the next step, ``None``
when the flow is over, or ``STAY`` to wait for more (photos), together with the names it
may return. A flow checks those names when it is declared, so a misspelt step fails at
import, and a ``Then`` refuses to return a name it did not declare. A ``DomainError``
raised while taking an answer is shown to the person; an ``InvalidInput`` asks again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Generic, ParamSpec

from sqlalchemy.orm import Session

from conversations.messages import Button, Incoming, Reply
from storage.callback.models import SATISFACTION_LABELS, Satisfaction
from storage.clock import local_date, utcnow
from storage.config import Settings
from storage.errors import InvalidInput
from storage.estate.models import Unit
from storage.i18n import LOCALES, N_, Msg, Translator, translator
from storage.people import service as people
from storage.people.models import Person, StaffMember
from storage.text import required

STAY = "\x00stay"
Next = str | None
# In a conversation's data: an unbound person's language choice, kept across flows and used
# once they bind.
CHOSEN_LOCALE = "_locale"
# In a conversation's data: a sentence a person wrote outside any flow, which the flow they
# then choose (报修, 投诉) takes as its description.
WORDS = "_words"
P = ParamSpec("P")


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
    # The person's homes: a question with their units as buttons reads them to ask and again
    # to take the answer, and the step after to say where; once per message.
    _units: dict[int, list[Unit]] = field(default_factory=dict, repr=False)

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

    def units(self) -> list[Unit]:
        """The units the person lives in (owner, tenant or family)."""
        known = self._units.get(self.me.id)
        if known is None:
            known = people.units_of(session=self.session, person_id=self.me.id)
            self._units[self.me.id] = known
        return known

    def knows_resident(self, person: Person, resident: bool) -> None:
        self._residents[person.id] = resident

    def today(self) -> date:
        return local_date(utcnow(), self.settings.tz)


class UndeclaredStep(Exception):
    """A step went to a step it did not declare: a mistake in a flow, not in an answer."""


class Then(Generic[P]):
    """What a step (or a flow's start) does, and the steps it may go on to."""

    def __init__(self, act: Callable[P, Next], targets: tuple[str, ...]) -> None:
        self.act = act
        self.targets = targets

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Next:
        following = self.act(*args, **kwargs)
        if following is not None and following != STAY and following not in self.targets:
            raise UndeclaredStep(f"{self.act.__name__} went to {following!r}, not {self.targets}")
        return following


def then(*targets: str) -> Callable[[Callable[P, Next]], Then[P]]:
    """Declares the steps a function may go on to (besides ending the flow)."""

    def declare(act: Callable[P, Next]) -> Then[P]:
        return Then(act, targets)

    return declare


def go(target: str) -> Then[[Context]]:
    """Always on to ``target``: a flow's first question, the step after the photos."""

    def going(ctx: Context) -> Next:
        return target

    return Then(going, (target,))


def remember(
    key: str, following: str | None, convert: Callable[[Any], Any] = lambda value: value
) -> Then[[Context, Any]]:
    """The usual answer to a question: keep it (converted) under ``key``, go on to ``following``
    (or, with None, end the flow)."""

    def keep(ctx: Context, value: Any) -> Next:
        ctx.data[key] = convert(value)
        return following

    return Then(keep, (following,) if following is not None else ())


def unless_empty(
    options: Callable[[Context], Sequence[Option]], empty: str, following: str
) -> Then[[Context]]:
    """Start a pick-from-a-list flow, or say ``empty`` and end when there is nothing to pick."""

    def start(ctx: Context) -> Next:
        if not options(ctx):
            ctx.say(empty)
            return None
        return following

    return Then(start, (following,))


@dataclass(frozen=True)
class Option:
    key: str
    label: str  # a message id, translated when shown
    translate: bool = True  # False for names, ticket numbers, places
    # Other words that name it when typed: a person's name beside their department, a
    # ticket's number beside its description.
    also: tuple[str, ...] = ()

    def shown(self, t: Translator) -> str:
        return t(self.label) if self.translate else self.label


Text = str | Msg | Callable[[Context], str | Msg]
Options = Sequence[Option] | Callable[[Context], Sequence[Option]]


def _text(ctx: Context, text: Text) -> str:
    value = text(ctx) if callable(text) else text
    return ctx.t(value)


def matches(said: str, option: Option) -> bool:
    """A typed answer names an option by its key or its label in any language."""
    wanted = said.strip().casefold()
    if not wanted:
        return False
    if wanted == option.key.casefold():
        return True
    labels = {option.label, *option.also} | (
        {translator(locale)(option.label) for locale in LOCALES} if option.translate else set()
    )
    return wanted in {label.casefold() for label in labels}


@dataclass(frozen=True)
class Choose:
    name: str
    prompt: Text
    options: Options
    then: Then[[Context, str]]
    # A typed answer that is none of the options and that this step takes all the same (a
    # binding code typed at 请选择绑定方式): whether the words are one, and what takes them.
    # It goes on only where ``then`` may, so the flow's declared steps stay ``then``'s.
    typed: tuple[Callable[[str], bool], Then[[Context, str]]] | None = None

    def __post_init__(self) -> None:
        if self.typed is not None and not set(self.typed[1].targets) <= set(self.then.targets):
            raise ValueError(f"step {self.name}: a typed answer goes where its options cannot")

    def _options(self, ctx: Context) -> Sequence[Option]:
        return self.options(ctx) if callable(self.options) else self.options

    def buttons(self, ctx: Context) -> tuple[Button, ...]:
        return tuple(Button(o.key, o.shown(ctx.t)) for o in self._options(ctx))

    def ask(self, ctx: Context) -> None:
        ctx.replies.append(Reply(_text(ctx, self.prompt), self.buttons(ctx)))

    def take(self, ctx: Context) -> Next:
        options = self._options(ctx)
        said = ctx.incoming.said
        key: str | None = None
        # (A number is a press by now: the engine turns it into the button it names.)
        if ctx.incoming.button is not None:
            key = next((o.key for o in options if o.key == ctx.incoming.button), None)
        else:
            named = [o.key for o in options if matches(said, o)]
            if len(named) > 1:  # two 王师傅: which one is for the person to say
                raise InvalidInput(
                    "「{said}」对应多个选项，请回复数字或点选按钮", said=said.strip()
                )
            key = named[0] if named else None
            if key is None and self.typed is not None and self.typed[0](said.strip()):
                return self.typed[1](ctx, said.strip())
        if key is None:
            raise InvalidInput("请回复 1-{count} 中的数字，或点选按钮", count=len(options))
        return self.then(ctx, key)


YES = Option("yes", N_("是"))
NO = Option("no", N_("否"))
CONFIRM = Option("confirm", N_("确认提交"))
SKIP = Option("skip", N_("跳过"))
DONE = Option("done", N_("完成"))


def confirm_step(name: str, summary: Text, then: Then[[Context]]) -> Choose:
    """The last question of every flow that writes: nothing is stored before it."""

    def decided(ctx: Context, key: str) -> Next:
        if key == CONFIRM.key:
            return then(ctx)
        ctx.say("已取消，没有保存任何内容。")
        return None

    return Choose(
        name, summary, [CONFIRM, Option("cancel", N_("取消"))], Then(decided, then.targets)
    )


@dataclass(frozen=True)
class AskText:
    name: str
    prompt: Text
    then: Then[[Context, str]]
    what: str = N_("内容")  # named in the "please fill in …" re-prompt
    max_length: int = 500
    skippable: bool = False

    def buttons(self, ctx: Context) -> tuple[Button, ...]:
        return (Button(SKIP.key, ctx.t(SKIP.label)),) if self.skippable else ()

    def ask(self, ctx: Context) -> None:
        ctx.replies.append(Reply(_text(ctx, self.prompt), self.buttons(ctx)))

    def take(self, ctx: Context) -> Next:
        skip = ctx.incoming.button == SKIP.key or matches(ctx.incoming.said, SKIP)
        if skip and self.skippable:
            return self.then(ctx, "")
        if skip:  # "跳过" typed where an answer is needed: not kept as the answer
            raise InvalidInput("这一步不能跳过，请填写{what}", what=Msg(self.what))
        if ctx.incoming.button is not None:
            raise InvalidInput("这里需要您输入文字")
        if not ctx.incoming.said and ctx.incoming.voice:
            raise InvalidInput("这里需要您输入文字（语音未能识别）")
        if not ctx.incoming.said and ctx.incoming.photos:
            raise InvalidInput("这里需要您输入文字，照片请在需要照片的一步发送")
        return self.then(ctx, required(ctx.incoming.said, self.what, max_length=self.max_length))


@dataclass(frozen=True)
class AskPlace(AskText):
    """A place in words, or a location pin sent from the phone."""

    def take(self, ctx: Context) -> Next:
        if ctx.incoming.location is not None:
            return self.then(ctx, ctx.incoming.location.describe())
        return super().take(ctx)


@dataclass(frozen=True)
class AskPhotos:
    """Any number of photos, sent one by one or as an album, until 完成 (or 跳过)."""

    name: str
    prompt: Text
    then: Then[[Context]]

    def buttons(self, ctx: Context) -> tuple[Button, ...]:
        return (Button(DONE.key, ctx.t(DONE.label)), Button(SKIP.key, ctx.t(SKIP.label)))

    def ask(self, ctx: Context) -> None:
        ctx.replies.append(Reply(_text(ctx, self.prompt), self.buttons(ctx)))

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
            matches(incoming.said, o) for o in (DONE, SKIP)
        ):
            return self.then(ctx)
        raise InvalidInput("这里需要照片：请发送照片，或点「完成」继续")


# A day written without its year and at most this long ago is that day (and refused as
# past), not the same day next year.
PAST_WITHOUT_YEAR = 31
_DATE = re.compile(r"^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?$")


@dataclass(frozen=True)
class AskDate:
    """A day: 2026-12-05, 12-05, 12月5日, or a number of days from today."""

    name: str
    prompt: Text
    then: Then[[Context, date]]
    # The days offered as buttons; a rule's limit comes from its setting, so a function.
    quick_days: tuple[int, ...] | Callable[[Context], tuple[int, ...]] = (3, 7, 14)

    def buttons(self, ctx: Context) -> tuple[Button, ...]:
        days_offered = self.quick_days(ctx) if callable(self.quick_days) else self.quick_days
        return tuple(Button(f"d{days}", ctx.t("{days}天后", days=days)) for days in days_offered)

    def ask(self, ctx: Context) -> None:
        ctx.replies.append(Reply(_text(ctx, self.prompt), self.buttons(ctx)))

    def take(self, ctx: Context) -> Next:
        today = ctx.today()
        button, said = ctx.incoming.button, ctx.incoming.said
        if button is None:  # a button's label typed ("7天后") is that button
            button = next(
                (b.key for b in self.buttons(ctx) if matches(said, Option(b.key, b.label, False))),
                None,
            )
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
            if day is not None and not match[1] and (today - day).days > PAST_WITHOUT_YEAR:
                try:
                    day = day.replace(year=year + 1)  # "1-5" in December means next January
                except ValueError:  # 2-29, and next year has none
                    day = None
        if day is None:
            raise InvalidInput("日期格式不对，请输入如 2026-12-05、12-05，或天数如 7")
        if day <= today:
            raise InvalidInput("请选择今天以后的日期")
        return self.then(ctx, day)


Step = Choose | AskText | AskPhotos | AskDate

SATISFACTION = [Option(s.value, SATISFACTION_LABELS[s]) for s in Satisfaction]


def satisfaction_steps(
    *, prompt: Text, remark: str, recorded: Callable[[Context, Satisfaction, str], Next]
) -> list[Step]:
    """满意 / 较满意 / 不满意, then a remark that may be skipped: the owner's 回访评价 and the
    desk's 回访 alike. ``recorded`` gets the answer and the remark ("" when skipped)."""

    def remarked(ctx: Context, text: str) -> Next:
        return recorded(ctx, Satisfaction(ctx.data["satisfaction"]), text)

    return [
        Choose(
            "satisfaction",
            prompt,
            SATISFACTION,
            remember("satisfaction", "remark", lambda key: Satisfaction(key).value),
        ),
        AskText(
            "remark",
            remark,
            Then(remarked, ()),
            what=N_("回访意见"),
            max_length=500,
            skippable=True,
        ),
    ]


@dataclass(frozen=True)
class Flow:
    """A conversation declared once for every platform: entry words, who may, the steps,
    and what the engine needs to know of it."""

    key: str
    title: str  # message id shown in menus and help; typing it (in any language) starts the flow
    steps: Sequence[Step]
    start: Then[[Context]]
    allowed: Callable[[Context], bool]
    collects_photos: bool = False  # photos sent at any step are kept for the flow
    starts_on_media: bool = False  # a photo or a voice note sent first starts this flow
    starts_on_words: bool = False  # a sentence matching nothing starts this flow
    open_to_strangers: bool = False  # someone not yet bound may use it
    greets_strangers: bool = False  # where a stranger's first message goes (binding)
    command: bool = False  # listed as a platform's command and menu entry
    # In the menu. A flow a notice's button starts ("/take 12": accept order 12) is not: it
    # acts on the ticket it names, from whatever the reader was doing.
    listed: bool = True
    # Other words that start it, in any language: the desk's 投诉 is 登记投诉 (for an owner),
    # as an owner's 投诉 is their own.
    words: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"flow {self.key} names a step twice: {names}")
        for target in self.targets():
            if target not in names:
                raise ValueError(
                    f"flow {self.key} goes to {target!r}, which is not one of its steps"
                )

    def targets(self) -> set[str]:
        """Every step name this flow's start and steps may go on to."""
        declared = set(self.start.targets)
        for step in self.steps:
            declared |= set(step.then.targets)
        return declared

    def has_step(self, name: str) -> bool:
        return any(step.name == name for step in self.steps)

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"flow {self.key} has no step {name}")

    def matches(self, said: str) -> bool:
        said = said.lstrip("/")
        return matches(said, Option(self.key, self.title)) or any(
            matches(said, Option(self.key, word)) for word in self.words
        )
