"""Languages: zh-Hans (the source, and the default), zh-Hant and English.

Texts are written once in zh-Hans, the desk's own words, and double as gettext
message ids. ``storage/locale/<locale>/LC_MESSAGES/wuye.po`` hold the other
languages, read with Babel. A ``Msg`` is a text still to be translated: errors
and notifications carry one, so each person reads them in their own language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

DEFAULT_LOCALE = "zh_Hans"
LOCALES = ("zh_Hans", "zh_Hant", "en")
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "wuye"
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}


def N_(text: str) -> str:
    """Marks a text for translation where it is defined; it is translated where it is shown."""
    return text


class Msg:
    """A text to translate when shown: a zh-Hans template and its parameters."""

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: object) -> None:
        self.template = template
        self.params: Mapping[str, object] = params

    def render(self, gettext: Callable[[str], str]) -> str:
        params = {
            key: value.render(gettext) if isinstance(value, Msg) else value
            for key, value in self.params.items()
        }
        return gettext(self.template).format(**params)

    def __str__(self) -> str:
        return self.render(lambda text: text)

    def __repr__(self) -> str:
        return f"Msg({self.template!r}, **{dict(self.params)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.template, self.params) == (
            other.template,
            other.params,
        )

    def __hash__(self) -> int:
        return hash(self.template)


class Translator:
    def __init__(self, locale: str, messages: Mapping[str, str]) -> None:
        self.locale = locale
        self._messages = messages

    def gettext(self, text: str) -> str:
        return self._messages.get(text) or text

    def __call__(self, text: str | Msg, /, **params: object) -> str:
        """Translate a text (formatting ``params`` into it) or render a ``Msg``."""
        if isinstance(text, Msg):
            return text.render(self.gettext)
        return Msg(text, **params).render(self.gettext) if params else self.gettext(text)


# The calls whose first string argument (second, for required/optional) is a message id.
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    name: None
    for name in (
        "N_",
        "Msg",
        "t",
        "say",
        "DomainError",
        "InvalidInput",
        "PermissionDenied",
        "NotFound",
        "IllegalTransition",
        "AlreadyRecorded",
    )
} | {"required": (2,), "optional": (2,)}
SOURCES = ("storage", "conversations", "scheduler", "bot")


def extract(root: Path) -> dict[str, list[str]]:
    """Every message id in the source, with where it is used."""
    found: dict[str, list[str]] = {}
    for package in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            root / package,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=(),
            strip_comment_tags=True,
        ):
            if isinstance(message, str) and message:
                found.setdefault(message, []).append(f"{package}/{filename}:{lineno}")
    return found


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translator(locale: str | None) -> Translator:
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    if locale == DEFAULT_LOCALE:
        return Translator(locale, {})
    with catalog_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale.replace("_Hans", "").replace("_Hant", ""))
    messages = {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }
    return Translator(locale, messages)


def negotiate(language_code: str | None) -> str:
    """The locale for a platform's language code: zh-TW, zh-HK, zh-Hant → zh_Hant; en-* → en."""
    code = (language_code or "").replace("_", "-").lower()
    if code.startswith("en"):
        return "en"
    if code.startswith("zh") and any(tag in code for tag in ("hant", "tw", "hk", "mo")):
        return "zh_Hant"
    return DEFAULT_LOCALE
