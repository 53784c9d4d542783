"""绑定: a new chat account proves who it is; 绑定审核: the desk approves a binding."""

from __future__ import annotations

from sqlalchemy import select

from conversations.flows.common import RELATION_OPTIONS, chosen_id, estate_id, has_role
from conversations.steps import (
    CHOSEN_LOCALE,
    NO,
    YES,
    AskText,
    Choose,
    Context,
    Flow,
    Next,
    Option,
    remember,
    then,
    unless_empty,
)
from storage.errors import InvalidInput
from storage.estate import service as estates
from storage.estate.models import Estate
from storage.i18n import DEFAULT_LOCALE, N_, negotiate, translator
from storage.identity import attempts
from storage.identity import service as identity
from storage.identity.models import BindingRequest
from storage.people import service as people
from storage.people.models import DESK_ROLES, RELATION_LABELS, Person, ResidentRelation
from storage.people.privacy import mask_phone

JOIN = "join"  # not on the roster: asks the desk to be added to the unit


def _welcome(ctx: Context, person: Person) -> None:
    # The platform's language, unless the person already chose one.
    if person.locale == DEFAULT_LOCALE:
        person.locale = ctx.data.get(CHOSEN_LOCALE) or negotiate(ctx.incoming.language)
    ctx.person = person
    ctx.t = translator(person.locale)
    ctx.say("绑定成功，{name}，欢迎使用物业服务！", name=person.name)
    ctx.show_menu = True


def _wrong(ctx: Context, wrong: attempts.WrongAnswer, again: str) -> Next:
    """Counted here, in a step that returns: a step that raises has its writes rolled back."""
    paused = attempts.note_failed_binding(
        session=ctx.session,
        platform=ctx.incoming.platform,
        external_id=ctx.incoming.user_id,
        unit_id=wrong.unit_id,
    )
    ctx.say(wrong.message)
    if paused is not None:
        ctx.say(paused.message)
        return None
    return again


@then("method", "code")
def _start(ctx: Context) -> Next:
    # A paused account hears so at once, not after typing its answers again.
    attempts.check_binding_allowed(
        session=ctx.session, platform=ctx.incoming.platform, external_id=ctx.incoming.user_id
    )
    # The code the desk handed out: pasted as the first message, or carried by a Telegram
    # deep link (/start CODE) or a WeChat QR code's scene. Taken as one, in one step.
    carried = ctx.data.pop("argument", "") or ctx.incoming.said
    if identity.looks_like_invite(carried):
        return _code(ctx, carried)
    waiting = identity.waiting_request(
        session=ctx.session, platform=ctx.incoming.platform, external_id=ctx.incoming.user_id
    )
    if waiting is not None:
        ctx.say(
            "您的绑定申请（{unit}）正在审核中，客服中心审核后会通知您。",
            unit=waiting.unit_designation,
        )
        return None
    ctx.say("您好！第一次使用，请先绑定身份。")
    return "method"


@then("code", "estate", "unit")
def _method(ctx: Context, key: str) -> Next:
    if key == "code":
        return "code"
    ctx.data["joining"] = key == JOIN
    estates_list = estates.list_estates(session=ctx.session)
    if not estates_list:
        raise InvalidInput("系统还没有登记小区，请联系客服中心")
    if len(estates_list) == 1:
        ctx.data["estate_id"] = estates_list[0].id
        return "unit"
    return "estate"


@then("code")
def _code(ctx: Context, code: str) -> Next:
    try:
        person = identity.redeem_invite(
            session=ctx.session,
            code=code,
            platform=ctx.incoming.platform,
            external_id=ctx.incoming.user_id,
        )
    except attempts.WrongAnswer as wrong:
        return _wrong(ctx, wrong, "code")
    _welcome(ctx, person)
    return None


def _estate_options(ctx: Context) -> list[Option]:
    return [
        Option(str(e.id), e.name, translate=False)
        for e in ctx.session.scalars(select(Estate).order_by(Estate.code))
    ]


@then("phone", "name")
def _unit(ctx: Context, text: str) -> Next:
    # Only its form is checked here: whether the unit exists is told, with the phone, as one
    # answer, so that a stranger cannot list the estate's units.
    ctx.data["unit"] = "-".join(estates.parse_designation(text))
    return "name" if ctx.data.get("joining") else "phone"


@then("unit")
def _phone(ctx: Context, phone: str) -> Next:
    if not people.normalize_phone(phone):
        raise InvalidInput("手机号应由数字组成，请重新输入")
    if ctx.data.get("joining"):
        identity.request_to_join(
            session=ctx.session,
            estate_id=ctx.data["estate_id"],
            designation=ctx.data["unit"],
            name=ctx.data["name"],
            relation=ResidentRelation(ctx.data["relation"]),
            phone=phone,
            platform=ctx.incoming.platform,
            external_id=ctx.incoming.user_id,
        )
        ctx.say("已提交住户登记申请，客服中心核实后会通知您。")
        return None
    try:
        person = identity.bind_by_unit_and_phone(
            session=ctx.session,
            estate_id=ctx.data["estate_id"],
            designation=ctx.data["unit"],
            phone=phone,
            platform=ctx.incoming.platform,
            external_id=ctx.incoming.user_id,
        )
    except attempts.WrongAnswer as wrong:
        # Either may be the wrong one, and which is not said: both are asked again.
        return _wrong(ctx, wrong, "unit")
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
    open_to_strangers=True,
    greets_strangers=True,
    steps=[
        Choose(
            "method",
            N_("请选择绑定方式："),
            [
                Option("code", N_("使用绑定码（客服中心提供）")),
                Option("unit", N_("房号 + 预留手机号")),
                Option(JOIN, N_("物业还没有登记我（新业主、家属、租户）")),
            ],
            _method,
            typed=(identity.looks_like_invite, _code),  # the code typed instead of choosing
        ),
        AskText("code", N_("请输入绑定码："), _code, what=N_("绑定码"), max_length=32),
        Choose(
            "estate", N_("请选择您的小区："), _estate_options, remember("estate_id", "unit", int)
        ),
        AskText("unit", N_("请输入房号，例如 3-1-502："), _unit, what=N_("房号"), max_length=40),
        AskText(
            "name",
            N_("请输入您的姓名："),
            remember("name", "relation"),
            what=N_("姓名"),
            max_length=100,
        ),
        Choose(
            "relation",
            N_("您是这个房号的："),
            RELATION_OPTIONS,
            remember("relation", "phone"),
        ),
        AskText(
            "phone",
            lambda ctx: (
                N_("请输入您的手机号：")
                if ctx.data.get("joining")
                else N_("请输入您在物业登记的手机号：")
            ),
            _phone,
            what=N_("手机号"),
            max_length=32,
        ),
    ],
)


# ------------------------------------------------------------------ 绑定审核


def _binding_options(ctx: Context) -> list[Option]:
    return [
        Option(
            str(b.id),
            f"{b.person.name} {b.unit_designation}"
            + (f" {ctx.t(RELATION_LABELS[b.joins_as])}（{ctx.t('新登记')}）" if b.joins_as else "")
            + f" · {b.platform}",
            translate=False,
        )
        for b in identity.pending_bindings(session=ctx.session, estate_id=estate_id(ctx))
    ]


def _request(ctx: Context) -> BindingRequest | None:
    return next(
        (
            b
            for b in identity.pending_bindings(session=ctx.session, estate_id=estate_id(ctx))
            if b.id == ctx.data["request_id"]
        ),
        None,
    )


def _conflict(ctx: Context) -> str | None:
    request = _request(ctx)
    return identity.joining_conflict(session=ctx.session, request=request) if request else None


def _decision_prompt(ctx: Context) -> str:
    conflict = _conflict(ctx)
    if conflict:
        return ctx.t(
            "不能同意：{conflict}。请与申请人核实后拒绝，请其用本人手机号重新申请。",
            conflict=conflict,
        )
    request = _request(ctx)
    if request is None:
        return ctx.t("同意绑定吗？")
    joining = (
        ctx.t("，申请登记为{relation}", relation=ctx.t(RELATION_LABELS[request.joins_as]))
        if request.joins_as
        else ""
    )
    return ctx.t(
        "{name}（{phone}）申请绑定 {unit}{joining}。同意绑定吗？",
        name=request.person.name,
        phone=mask_phone(request.person.phone or ""),
        unit=request.unit_designation,
        joining=joining,
    )


def _decision_options(ctx: Context) -> list[Option]:
    # Approving a request that cannot be approved is not offered (an offered action works).
    return [REFUSE] if _conflict(ctx) else [YES, NO]


REFUSE = Option(NO.key, N_("拒绝"))


@then()
def _binding_decision(ctx: Context, key: str) -> Next:
    request = identity.decide_binding(
        session=ctx.session, request_id=ctx.data["request_id"], actor=ctx.me, approve=key == YES.key
    )
    if key == YES.key:
        ctx.say("已同意 {name} 的绑定申请，已通知本人。", name=request.person.name)
    else:
        ctx.say("已拒绝 {name} 的绑定申请，已通知本人。", name=request.person.name)
    return None


BINDINGS = Flow(
    key="bindings",
    title=N_("绑定审核"),
    # Always the desk's: a request to be added to the roster needs it, whatever the setting.
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=unless_empty(_binding_options, N_("目前没有待审核的绑定申请。"), "request"),
    steps=[
        Choose(
            "request",
            N_("待审核的绑定申请："),
            _binding_options,
            remember("request_id", "decision", chosen_id),
        ),
        Choose("decision", _decision_prompt, _decision_options, _binding_decision),
    ],
)
