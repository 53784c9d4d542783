"""语言: anyone, bound or not, chooses the language wuye speaks to them."""

from __future__ import annotations

from conversations.steps import CHOSEN_LOCALE, Choose, Context, Flow, Next, Option, go, then
from storage.i18n import LANGUAGE_NAMES, LOCALES, N_, translator


@then()
def _language(ctx: Context, key: str) -> Next:
    if ctx.person is not None:
        ctx.person.locale = key
    else:
        ctx.data[CHOSEN_LOCALE] = key
    ctx.t = translator(key)
    ctx.say("语言已切换为{language}。", language=LANGUAGE_NAMES[key])
    ctx.show_menu = ctx.person is not None
    return None


LANGUAGE = Flow(
    key="language",
    title=N_("语言"),
    allowed=lambda ctx: True,
    start=go("choose"),
    open_to_strangers=True,
    command=True,
    steps=[
        Choose(
            "choose",
            N_("请选择语言："),
            [Option(code, LANGUAGE_NAMES[code], translate=False) for code in LOCALES],
            _language,
        )
    ],
)
