"""What people are told about binding their chat accounts: one builder per kind of notice."""

from __future__ import annotations

from storage.i18n import N_, Msg
from storage.identity.models import BindingRequest
from storage.outbox.notice import Notice
from storage.people.models import RELATION_LABELS, ResidentRelation


def binding_requested(request: BindingRequest) -> Notice:
    """To the desk: someone proved unit and phone and waits for approval."""
    return Notice(
        "binding_requested",
        N_("【绑定审核】{name}（{unit}）申请绑定，请在「绑定审核」中处理。"),
        {"name": request.person.name, "unit": request.unit_designation},
    )


def join_requested(request: BindingRequest) -> Notice:
    """To the desk: someone not on the roster asks to be added to a unit and bound."""
    return Notice(
        "join_requested",
        N_(
            "【住户登记申请】{name}（{phone}）申请登记为 {unit} 的{relation}，"
            "请核实后在「绑定审核」中处理。"
        ),
        {
            "name": request.person.name,
            "phone": request.person.phone or "",
            "unit": request.unit_designation,
            "relation": Msg(RELATION_LABELS[request.joins_as or ResidentRelation.OWNER]),
        },
        actions=(("/bindings", N_("绑定审核")),),
    )


def binding_decided(request: BindingRequest, *, approved: bool) -> Notice:
    """To the person who asked, on the platform they asked from."""
    if approved:
        return Notice(
            "binding_approved",
            N_("您的账号已通过审核，可以开始使用了。发送「帮助」查看可用功能。"),
        )
    return Notice("binding_refused", N_("您的绑定申请未通过审核，如有疑问请联系客服中心。"))
