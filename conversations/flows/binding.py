"""绑定: a new chat account proves who it is; 语言: a person chooses their language."""

from __future__ import annotations

from sqlalchemy import select

from conversations.steps import AskText, Choose, Context, Flow, Next, Option
from storage.errors import InvalidInput
from storage.estate import service as estates
from storage.estate.models import Estate
from storage.i18n import DEFAULT_LOCALE, LANGUAGE_NAMES, LOCALES, N_, negotiate, translator
from storage.identity import service as identity
from storage.people.models import Person


def _welcome(ctx: Context, person: Person) -> None:
    # The platform's language, unless the person already chose one.
    if person.locale == DEFAULT_LOCALE:
        person.locale = ctx.data.get("_locale") or negotiate(ctx.incoming.language)
    ctx.person = person
    ctx.t = translator(person.locale)
    ctx.say("绑定成功，{name}，欢迎使用物业服务！", name=person.name)
    ctx.show_menu = True


def _start(ctx: Context) -> Next:
    ctx.say("您好！第一次使用，请先绑定身份。")
    return "method"


def _method(ctx: Context, key: str) -> Next:
    if key == "code":
        return "code"
    estates_list = estates.list_estates(session=ctx.session)
    if not estates_list:
        raise InvalidInput("系统还没有登记小区，请联系客服中心")
    if len(estates_list) == 1:
        ctx.data["estate_id"] = estates_list[0].id
        return "unit"
    return "estate"


def _code(ctx: Context, code: str) -> Next:
    person = identity.redeem_invite(
        session=ctx.session,
        code=code,
        platform=ctx.incoming.platform,
        external_id=ctx.incoming.user_id,
    )
    _welcome(ctx, person)
    return None


def _estate_options(ctx: Context) -> list[Option]:
    return [
        Option(str(e.id), e.name, translate=False)
        for e in ctx.session.scalars(select(Estate).order_by(Estate.code))
    ]


def _estate(ctx: Context, key: str) -> Next:
    ctx.data["estate_id"] = int(key)
    return "unit"


def _unit(ctx: Context, text: str) -> Next:
    unit = estates.find_unit(session=ctx.session, estate_id=ctx.data["estate_id"], designation=text)
    ctx.data["unit"] = unit.designation
    return "phone"


def _phone(ctx: Context, phone: str) -> Next:
    person = identity.bind_by_unit_and_phone(
        session=ctx.session,
        estate_id=ctx.data["estate_id"],
        designation=ctx.data["unit"],
        phone=phone,
        platform=ctx.incoming.platform,
        external_id=ctx.incoming.user_id,
    )
    if person is None:
        ctx.say("已提交绑定申请，客服中心审核后会通知您。")
        return None
    _welcome(ctx, person)
    return None


BIND = Flow(
    key="bind",
    title=N_("绑定"),
    allowed=lambda ctx: ctx.person is None,
    start=_start,
    steps=[
        Choose(
            "method",
            N_("请选择绑定方式："),
            [
                Option("code", N_("使用绑定码（客服中心提供）")),
                Option("unit", N_("房号 + 预留手机号")),
            ],
            _method,
        ),
        AskText("code", N_("请输入绑定码："), _code, what=N_("绑定码"), max_length=32),
        Choose("estate", N_("请选择您的小区："), _estate_options, _estate),
        AskText("unit", N_("请输入房号，例如 3-1-502："), _unit, what=N_("房号"), max_length=40),
        AskText(
            "phone", N_("请输入您在物业登记的手机号："), _phone, what=N_("手机号"), max_length=32
        ),
    ],
)


def _language(ctx: Context, key: str) -> Next:
    if ctx.person is not None:
        ctx.person.locale = key
    else:
        ctx.data["_locale"] = key
    ctx.t = translator(key)
    ctx.say("语言已切换为{language}。", language=LANGUAGE_NAMES[key])
    ctx.show_menu = ctx.person is not None
    return None


LANGUAGE = Flow(
    key="language",
    title=N_("语言"),
    allowed=lambda ctx: True,
    start=lambda ctx: "choose",
    steps=[
        Choose(
            "choose",
            N_("请选择语言："),
            [Option(code, LANGUAGE_NAMES[code], translate=False) for code in LOCALES],
            _language,
        )
    ],
)
