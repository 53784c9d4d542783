"""住户登记: the desk keeps the roster current in chat (003 篇十二 六 信息变更): a new owner,
family member or tenant added to a unit, a changed phone, a move-out, a unit's state."""

from __future__ import annotations

from conversations.flows.common import RELATION_OPTIONS, chosen_id, estate_id, has_role, residents
from conversations.steps import (
    AskText,
    Choose,
    Context,
    Flow,
    Next,
    Option,
    confirm_step,
    go,
    remember,
    then,
)
from storage.errors import NotFound
from storage.estate import service as estates
from storage.estate.models import UNIT_STATE_LABELS, Unit, UnitState
from storage.i18n import N_
from storage.people import roster
from storage.people import service as people
from storage.people.models import DESK_ROLES, RELATION_LABELS, Residency, ResidentRelation
from storage.people.privacy import mask_phone

ADD, PHONE, MOVE_OUT, STATE = "add", "phone", "move_out", "state"


def _unit(ctx: Context) -> Unit:
    return estates.get_unit(session=ctx.session, unit_id=ctx.data["unit_id"])


def _residency(ctx: Context) -> Residency:
    found = next(
        (
            r
            for r in people.residents_of(session=ctx.session, unit_id=ctx.data["unit_id"])
            if r.person_id == ctx.data["person_id"]
        ),
        None,
    )
    if found is None:
        raise NotFound("这位住户已不在 {unit}", unit=_unit(ctx).designation)
    return found


@then("action")
def _unit_typed(ctx: Context, text: str) -> Next:
    unit = estates.find_unit(session=ctx.session, estate_id=estate_id(ctx), designation=text)
    ctx.data["unit_id"] = unit.id
    return "action"


def _action_prompt(ctx: Context) -> str:
    unit = _unit(ctx)
    lines = [
        ctx.t(
            "{unit}（{state}）现登记的住户：",
            unit=unit.designation,
            state=ctx.t(UNIT_STATE_LABELS[unit.state]),
        )
    ]
    lines += [
        f"· {r.person.name}（{ctx.t(RELATION_LABELS[r.relation])}）"
        f"{mask_phone(r.person.phone) if r.person.phone else ''}"
        for r in people.residents_of(session=ctx.session, unit_id=unit.id)
    ] or [ctx.t("（暂无）")]
    lines.append(ctx.t("要做什么？"))
    return "\n".join(lines)


def _action_options(ctx: Context) -> list[Option]:
    options = [Option(ADD, N_("新增住户"))]
    if people.residents_of(session=ctx.session, unit_id=ctx.data["unit_id"]):
        options += [Option(PHONE, N_("变更手机号")), Option(MOVE_OUT, N_("迁出"))]
    return [*options, Option(STATE, N_("房屋状态"))]


@then("name", "whose_phone", "who_moves_out", "state")
def _action(ctx: Context, key: str) -> Next:
    return {ADD: "name", PHONE: "whose_phone", MOVE_OUT: "who_moves_out", STATE: "state"}[key]


@then()
def _added(ctx: Context, phone: str) -> Next:
    unit = _unit(ctx)
    person = roster.add_resident(
        session=ctx.session,
        unit=unit,
        name=ctx.data["name"],
        phone=phone,
        relation=ResidentRelation(ctx.data["relation"]),
        actor=ctx.me,
        by=ctx.me.name,
    )
    ctx.say(
        "已登记 {name} 为 {unit} 的{relation}。TA 可以用房号和这个手机号绑定。",
        name=person.name,
        unit=unit.designation,
        relation=ctx.t(RELATION_LABELS[ResidentRelation(ctx.data["relation"])]),
    )
    return None


@then()
def _new_phone(ctx: Context, phone: str) -> Next:
    person = roster.change_phone(
        session=ctx.session, residency=_residency(ctx), phone=phone, actor=ctx.me, by=ctx.me.name
    )
    ctx.say(
        "已更新 {name} 的手机号为 {phone}。", name=person.name, phone=mask_phone(person.phone or "")
    )
    return None


def _move_out_prompt(ctx: Context) -> str:
    residency = _residency(ctx)
    return ctx.t(
        "确认 {name} 已从 {unit} 迁出？TA 的工单记录会保留。",
        name=residency.person.name,
        unit=residency.unit.designation,
    )


@then()
def _moved_out(ctx: Context) -> Next:
    residency = _residency(ctx)
    person = roster.move_out(session=ctx.session, residency=residency, actor=ctx.me, by=ctx.me.name)
    ctx.say("已登记 {name} 迁出。", name=person.name)
    return None


@then()
def _state(ctx: Context, key: str) -> Next:
    unit, state = _unit(ctx), UnitState(key)
    if unit.state is not state:
        roster.set_unit_state(
            session=ctx.session, unit=unit, state=state, actor=ctx.me, by=ctx.me.name
        )
    ctx.say(
        "{unit} 已记为「{state}」。", unit=unit.designation, state=ctx.t(UNIT_STATE_LABELS[state])
    )
    return None


RESIDENTS = Flow(
    key="residents",
    title=N_("住户登记"),
    words=(N_("信息变更"),),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=go("unit"),
    steps=[
        AskText(
            "unit", N_("请输入房号（例如 3-1-1204）："), _unit_typed, what=N_("房号"), max_length=32
        ),
        Choose("action", _action_prompt, _action_options, _action),
        AskText(
            "name",
            N_("新住户的姓名："),
            remember("name", "relation"),
            what=N_("姓名"),
            max_length=100,
        ),
        Choose(
            "relation",
            N_("TA 是这个房号的："),
            RELATION_OPTIONS,
            remember("relation", "phone"),
        ),
        AskText("phone", N_("TA 的手机号（11位）："), _added, what=N_("手机号"), max_length=32),
        Choose(
            "whose_phone",
            N_("变更哪一位住户的手机号？"),
            residents,
            remember("person_id", "new_phone", chosen_id),
        ),
        AskText(
            "new_phone", N_("新的手机号（11位）："), _new_phone, what=N_("手机号"), max_length=32
        ),
        Choose(
            "who_moves_out",
            N_("哪一位住户迁出？"),
            residents,
            remember("person_id", "move_out", chosen_id),
        ),
        confirm_step("move_out", _move_out_prompt, _moved_out),
        Choose(
            "state",
            N_("房屋现在的状态："),
            [Option(s.value, label) for s, label in UNIT_STATE_LABELS.items()],
            _state,
        ),
    ],
)
