"""Translations: every text in the code is in every catalog, with the same placeholders."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from storage import i18n
from storage.errors import PermissionDenied
from storage.i18n import Msg, negotiate, translator

ROOT = Path(__file__).resolve().parents[2]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.fixture(scope="module")
def messages() -> dict[str, list[str]]:
    return i18n.extract(ROOT)


@pytest.mark.parametrize("locale", ["zh_Hant", "en"])
def test_every_message_is_translated_with_its_placeholders(
    messages: dict[str, list[str]], locale: str
) -> None:
    with i18n.catalog_path(locale).open("rb") as po:
        catalog = {str(m.id): str(m.string) for m in read_po(po) if m.id}
    missing = {m: places[0] for m, places in messages.items() if not catalog.get(m)}
    assert not missing, f"{locale} lacks translations (run `wuye i18n update`): {missing}"
    broken = {m: catalog[m] for m in messages if placeholders(m) != placeholders(catalog[m])}
    assert not broken, f"{locale} translations with other placeholders: {broken}"


def test_the_extraction_finds_messages_in_every_layer(messages: dict[str, list[str]]) -> None:
    places = " ".join(p for ps in messages.values() for p in ps)
    for package in ("storage/", "conversations/"):
        assert package in places
    assert "请回复 1-{count} 中的数字，或点选按钮" in messages


@pytest.mark.parametrize(
    ("code", "locale"),
    [
        ("zh-CN", "zh_Hans"),
        ("zh-hans", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("zh-TW", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-Hant-MO", "zh_Hant"),
        ("en-GB", "en"),
        ("en", "en"),
        ("fr", "zh_Hans"),
        (None, "zh_Hans"),
    ],
)
def test_a_platforms_language_code_picks_a_locale(code: str | None, locale: str) -> None:
    assert negotiate(code) == locale


def test_a_refusal_reads_in_the_persons_language() -> None:
    error = PermissionDenied("只有本项目员工可以{doing}", doing=Msg("登记巡查问题"))
    assert str(error) == "只有本项目员工可以登记巡查问题"
    assert translator("en")(error.message) == "Only staff of this estate may report patrol findings"
    assert translator("zh_Hant")(error.message) == "只有本項目員工可以登記巡查問題"


# A number with the unit of a rule: a deadline, a window, a share. Such a number lives in a
# setting and reaches the text as a parameter ("{hours} 小时"), never as part of the text.
RULE_NUMBER = re.compile(
    r"(?<![\d{])\d+\s*(小时|小時|天|分钟|分鐘|周|週|%|hours?\b|days?\b|minutes?\b|weeks?\b)",
    re.IGNORECASE,
)


def test_no_text_states_a_rules_number_itself(messages: dict[str, list[str]]) -> None:
    texts = {m: places[0] for m, places in messages.items()}
    for locale in ("zh_Hant", "en"):
        with i18n.catalog_path(locale).open("rb") as po:
            texts |= {str(m.string): locale for m in read_po(po) if m.id and m.string}
    assert not {t: where for t, where in texts.items() if RULE_NUMBER.search(t)}


def _template_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and node.args and _name(node) in i18n.KEYWORDS
    ]


def test_no_f_string_is_passed_as_a_message_template() -> None:
    """An f-string as a template is untranslatable, and its text (a YAML error, a person's
    words) is formatted again: a brace in it ends in a KeyError."""
    found = []
    for package in i18n.SOURCES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for call in _template_calls(tree):
                positions = i18n.KEYWORDS.get(_name(call)) or (1,)
                for position in positions:
                    if len(call.args) >= position and any(
                        isinstance(part, ast.JoinedStr)
                        for part in ast.walk(call.args[position - 1])
                    ):
                        found.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not found


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
