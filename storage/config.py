"""Settings, read from ``WUYE_*`` environment variables and an optional ``.env`` file.

The numbers of the procedures are settings whose defaults are the seed
documents' values, so a company with stricter rules changes a variable, not code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from datetime import time as dt_time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, quote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

Days = Annotated[int, Field(ge=1, le=365)]
Hours = Annotated[int, Field(ge=1, le=24 * 30)]


class SettingsError(Exception):
    """A setting is missing or wrong; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WUYE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///wuye.db"
    # Photos and voice notes, downloaded from the platforms (their links expire).
    attachments_dir: Path = Path("attachments")

    # A photo or voice note larger than this is not kept, and its sender is told so: the Bot
    # API serves no more than 20 MB, a phone's photo is a few, and a folder filled by one
    # person's uploads stops every estate's reports.
    attachment_max_mb: Annotated[int, Field(ge=1, le=2000)] = 20

    # Telegram: unset token means no Telegram channel.
    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    # Where Telegram reaches `wuye serve` (https://…); unset: set no webhook (use `wuye poll`).
    public_url: str | None = None
    # A local Bot API server, or a fake one in tests.
    telegram_api_base_url: str = "https://api.telegram.org"
    # The bot's @name, for the deep links of binding codes (t.me/<name>?start=<code>);
    # asked of the Bot API (getMe) when not set.
    telegram_bot_username: str | None = None
    # Telegram's limits: about 30 messages a second overall, 1 a second in one chat (short
    # bursts tolerated), 20 a minute in a group.
    telegram_messages_per_second: Annotated[float, Field(gt=0, le=1000)] = 30
    telegram_chat_burst: Annotated[int, Field(ge=1, le=100)] = 3
    telegram_chat_messages_per_second: Annotated[float, Field(gt=0, le=1000)] = 1

    # WeChat Official Account (公众号): unset token means no WeChat channel.
    wechat_token: SecretStr | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None  # EncodingAESKey, 43 characters
    wechat_previous_aes_key: SecretStr | None = None  # still decrypts after a rotation
    # plain / compatible / safe, as in the WeChat console; default compatible with a key.
    wechat_mode: Literal["plain", "compatible", "safe"] | None = None
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    # 模板消息 for notices outside the 48-hour window: a template with first/keyword1/remark.
    wechat_template_notice: str | None = None
    wechat_max_clock_skew_seconds: Annotated[int, Field(ge=10, le=3600)] = 300
    # WeChat waits 5 s for the passive reply; what takes longer goes as customer-service messages.
    wechat_reply_budget_seconds: Annotated[float, Field(gt=0, le=4.5)] = 4.0

    # WeCom (企业微信): when set, staff linked to a WeCom user get their notices there.
    wecom_corp_id: str | None = None
    wecom_secret: SecretStr | None = None
    wecom_agent_id: int | None = None
    wecom_api_base_url: str = "https://qyapi.weixin.qq.com"
    timezone: str = "Asia/Shanghai"

    # 003 篇十二 三(四)2: callback windows after a repair is done.
    callback_days_safety: Days = 2
    callback_days_leak: Days = 3
    callback_days_other: Days = 7
    # 002 asks for callbacks on complaints without a number; a week, like "other" repairs.
    callback_days_complaint: Days = 7
    # The owner is asked in chat this many days after the work (at the latest on the last
    # day), reminded once this many days after that, and the desk phones those who did not
    # answer on the last day; a call nobody answers (未接通) is tried again the next working
    # day, and after this many tries the owner is recorded as unreachable.
    callback_ask_after_days: Days = 1
    callback_owner_reminder_days: Days = 1
    callback_call_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    # 003 三(五): a problem found at callback goes back for rework within 24 hours.
    rework_hours: Hours = 24
    # 001: a patrol finding is resolved within one week; longer needs a manager.
    patrol_fix_days: Days = 7
    # 001 方案 六.1: an approved extension moves a finding's deadline at most this many days
    # beyond the first one.
    patrol_extension_cap_days: Annotated[int, Field(ge=1, le=365)] = 30
    # 001 4.4.5: what a patroller writes that makes a finding urgent by itself (a gas or
    # burning smell), comma-separated in the environment; the patroller may say so too.
    urgent_finding_words: Annotated[frozenset[str], NoDecode] = frozenset(
        {"燃气", "煤气", "石油气", "液化气", "焦味", "冒烟", "起火", "着火", "漏电"}
    )
    # The 18:30 digest lists at most this many items per section, then "and N more".
    digest_list_limit: Annotated[int, Field(ge=1, le=100)] = 8
    # 003 篇十: a complaint is handled within 24 h; 篇十二 三(三): replied within 72 h.
    complaint_handle_hours: Hours = 24
    complaint_reply_hours: Hours = 72
    # Whoever holds a complaint is warned this many hours before its reply date.
    complaint_warning_hours: Hours = 4
    # 001 第十条: the desk takes owners' questions and suggestions (咨询、建议); answered within
    # this many hours, as a complaint is taken up.
    message_reply_hours: Hours = 24
    # 003 篇十二 三(二): emergency repairs are taken this many hours a day (365天24小时).
    emergency_repair_hours: Annotated[int, Field(ge=1, le=24)] = 24
    # 紧急维修 by nature, whatever the owner says: gas, someone in a lift, a burst pipe, fire
    # equipment, a power failure (category keys, comma-separated in the environment).
    urgent_categories: Annotated[frozenset[str], NoDecode] = frozenset(
        {"gas", "lift_entrapment", "burst_pipe", "fire_safety", "power_failure"}
    )
    # An urgent repair is accepted within this many minutes and the technician is on site
    # within the second; until someone accepts, each such span pages the next rung of the
    # ladder (the person on duty and the desk → the department head → the project manager).
    urgent_accept_minutes: Annotated[int, Field(ge=1, le=240)] = 15
    urgent_arrive_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    urgent_page_every_minutes: Annotated[int, Field(ge=1, le=240)] = 15
    # An ordinary repair is dispatched within the desk's working day and finished within
    # this many days; the holder is warned this many hours before the finish deadline.
    repair_finish_days: Days = 3
    repair_warning_hours: Hours = 4
    # A new repair nobody dispatched within this many minutes of desk time reminds the desk;
    # twice that, the desk's supervisor.
    repair_dispatch_reminder_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 30
    # 003 七(二)3: the 排列图's "vital few" are the problems that make up this share of all.
    pareto_vital_percent: Annotated[int, Field(ge=50, le=99)] = 80

    # 001: fixed but not verified on site within this many days → customer service.
    patrol_verify_days: Days = 2
    # 000 3.12: the quality specialist re-checks at least 3 callbacks a week by phone.
    quality_sample_size: Annotated[int, Field(ge=1, le=100)] = 3
    # 003 篇十二 三(四)1: the project manager spot-checks this many of last month's callbacks.
    quality_monthly_sample_size: Annotated[int, Field(ge=1, le=100)] = 5
    # 001 例会制度: the weekly meeting, Friday (ISO weekday 5) at 16:00; the week's figures
    # reach the project manager and the department heads this many hours before it.
    weekly_meeting_weekday: Annotated[int, Field(ge=1, le=7)] = 5
    weekly_meeting_time: dt_time = dt_time(16, 0)
    weekly_figures_hours_before: Annotated[int, Field(ge=1, le=48)] = 2
    # 001 4.10: patrol records are kept two years, then archived.
    retention_days: Annotated[int, Field(ge=30, le=3650)] = 730
    # Reminders are not sent at night; one due in these hours waits for the morning.
    quiet_hours_start: dt_time = dt_time(21, 0)
    quiet_hours_end: dt_time = dt_time(8, 0)
    # How often the clock's jobs run: once a minute is what the procedures need.
    clock_tick_seconds: Annotated[int, Field(ge=1, le=3600)] = 60

    # 通知公告: a notice to residents needs a supervisor's approval (or the project
    # manager's) before it goes out; an emergency one goes at once, through quiet hours.
    announcement_needs_approval: bool = True
    # An emergency notice (a burst main, a typhoon) goes at once without anyone's approval;
    # off, it waits for a supervisor as any other does (it still goes through quiet hours).
    announcement_emergency_skips_approval: bool = True
    # An owner of a building under an outage who reports a matching repair is told of the
    # outage first; these categories match each kind (comma-separated in the environment).
    water_outage_categories: Annotated[frozenset[str], NoDecode] = frozenset(
        {"plumbing", "water_leak"}
    )
    power_outage_categories: Annotated[frozenset[str], NoDecode] = frozenset(
        {"electrical", "power_failure"}
    )
    lift_outage_categories: Annotated[frozenset[str], NoDecode] = frozenset({"lift"})
    # 业主评议 (003 篇十二 七(一)): a quarter's survey asks at least this share of the occupied
    # households, none asked in the past this many days; it closes after this many days
    # (collected within half a month), and reminds once after this many.
    survey_sample_percent: Annotated[int, Field(ge=1, le=100)] = 20
    survey_no_repeat_days: Annotated[int, Field(ge=1, le=3650)] = 365
    survey_days: Days = 15
    survey_reminder_days: Days = 5

    invite_valid_days: Days = 7
    # The codes of a lobby campaign's binding sheet (wuye invite --sheet) stay valid longer.
    invite_sheet_valid_days: Days = 30
    # A new chat account that proves unit + phone is bound at once, or waits for the desk.
    bind_requires_approval: bool = False

    # Guessing who someone is: this many wrong codes or unit + phone answers from one chat
    # account, or this many wrong phones for one unit from anyone, within the pause's length,
    # pause binding (that account's, that unit's) for this many minutes. A pause refuses even
    # the right answer, so guessing learns nothing while it lasts.
    bind_failures_per_chat: Annotated[int, Field(ge=1, le=100)] = 5
    bind_failures_per_unit: Annotated[int, Field(ge=1, le=1000)] = 10
    bind_pause_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15

    # A conversation left this long forgets where it was and says so.
    conversation_idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    sqlite_busy_timeout_ms: Annotated[int, Field(ge=0, le=600_000)] = 5_000

    # Replies are written with the step they answer and leased to the channel sending them;
    # one not confirmed sent within the lease (the server died) is sent by the dispatcher
    # or on the message's redelivery. Longer than a send can take, 429 pauses included.
    reply_lease_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    # A message the database cannot take now (busy, down, a bug) waits here, one file each,
    # and is handled in turn for its chat when it can be; given up (with an apology) after
    # this many hours.
    inbox_dir: Path = Path("inbox")
    inbox_give_up_hours: Hours = 24
    # One chat sending faster than this is answered in turn, slowed, and asked to wait (at
    # most once a minute); other chats are not held up. A burst (an album) goes at once.
    chat_burst: Annotated[int, Field(ge=1, le=1000)] = 10
    chat_messages_per_second: Annotated[float, Field(gt=0, le=1000)] = 1
    # PostgreSQL: a pooled connection idle this long is tested before use. One in steady use
    # is not (a round trip per message); if it dies anyway, the message is taken again.
    database_ping_after_idle_seconds: Annotated[float, Field(ge=0, le=3600)] = 30

    # --- Serving in production: /metrics (the checks of a server's settings: check_serving) ---
    # When set, GET /metrics answers only `Authorization: Bearer <token>` (Prometheus's
    # `authorization` / `bearer_token_file`), anything else 401.
    metrics_token: SecretStr | None = None
    # host:port, e.g. 127.0.0.1:9100: /metrics is served there, by a listener of its own in
    # each worker, and not on the public app. With WUYE_PUBLIC_URL set (production) and
    # neither this nor a token, /metrics is not served at all: it fails closed.
    metrics_listen: str | None = None
    # uvicorn's line per HTTP request. Off by default: each webhook is already counted and
    # timed in /metrics, a reverse proxy in front logs requests anyway, and the line (JSON,
    # masked) costs about 3% of a webhook's CPU (bench/README.md).
    access_log: bool = False

    @field_validator(
        "urgent_categories",
        "urgent_finding_words",
        "water_outage_categories",
        "power_outage_categories",
        "lift_outage_categories",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_length(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty or short token is guessed (or is a blank line in an .env): refuse it
        # rather than guard /metrics with it.
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError(f"use at least 16 characters, e.g. from {RANDOM_VALUE_COMMAND}")
        return value

    @field_validator("metrics_listen")
    @classmethod
    def _metrics_listen_address(cls, value: str | None) -> str | None:
        if value is not None:
            host_port(value)
        return value

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        return host_port(self.metrics_listen) if self.metrics_listen else None

    def secret_values(self) -> set[str]:
        """Every secret these settings hold, to be masked wherever text leaves the process:
        the SecretStr fields, and the database password as given and as URLs quote it."""
        values = {
            value.get_secret_value()
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), SecretStr)
        }
        password = make_url(self.database_url).password
        if password:
            values |= {str(password), quote(str(password), safe=""), quote_plus(str(password))}
        return {value for value in values if value}

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # The SecretStr fields print as '**********' already; the database URL is a str
        # (every engine takes it so), and printed settings show it with its password masked.
        for name, value in super().__repr_args__():
            if name == "database_url" and isinstance(value, str):
                value = make_url(value).render_as_string(hide_password=True)
            yield name, value

    # --- end of serving in production ---

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)"
            ) from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("use 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("wechat_aes_key", "wechat_previous_aes_key")
    @classmethod
    def _aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9]{43}", value.get_secret_value()):
            raise ValueError("an EncodingAESKey is 43 letters and digits")
        return value

    @property
    def wechat_effective_mode(self) -> str:
        return self.wechat_mode or ("compatible" if self.wechat_aes_key else "plain")

    @field_validator(
        "public_url", "telegram_api_base_url", "wechat_api_base_url", "wecom_api_base_url"
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local server)")
        return value.rstrip("/") if value else value

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_quiet(self, now: datetime) -> bool:
        """Night (quiet_hours_start → quiet_hours_end): reminders and ordinary notices wait
        for the morning; emergencies do not."""
        clock = now.astimezone(self.tz).time()
        start, end = self.quiet_hours_start, self.quiet_hours_end
        return clock >= start or clock < end if start > end else start <= clock < end


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            lines.append(f"WUYE_{field.upper()}: {error['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


# --- Serving in production: what a server needs beyond what every command needs ---
# `wuye chat` and the desk's commands start without any platform's settings, so these are
# not pydantic validators: `wuye serve` and `wuye poll` check them before anything binds a
# port or migrates, and refuse to start with one line per problem naming the variable.


# How a secret's value is made (Telegram's secret_token allows exactly these characters).
RANDOM_VALUE_COMMAND = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def host_port(value: str) -> tuple[str, int]:
    """``127.0.0.1:9100`` or ``[::1]:9100`` as (host, port); ValueError when it is neither."""
    host, colon, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("use host:port, e.g. 127.0.0.1:9100")
    return host, int(port)


def serving_problems(settings: Settings, *, webhook: bool = True) -> list[str]:
    """What stops these settings from serving, one line each; ``webhook=False`` for
    `wuye poll`, which takes Telegram's updates without a webhook."""
    problems: list[str] = []
    if (
        webhook
        and settings.telegram_token is not None
        and settings.public_url is not None
        and settings.telegram_webhook_secret is None
    ):
        # Without it the webhook cannot tell Telegram's updates from anyone's: every update
        # would be refused, so nothing would arrive. Better not to start.
        problems.append(
            "WUYE_TELEGRAM_WEBHOOK_SECRET is not set: with WUYE_PUBLIC_URL and"
            " WUYE_TELEGRAM_TOKEN set, Telegram's webhook needs it to prove each update comes"
            f" from Telegram; generate one with {RANDOM_VALUE_COMMAND}"
        )
    if settings.wechat_token is not None:
        if settings.wechat_app_id is None:
            problems.append(
                "WUYE_WECHAT_APP_ID is not set: WeChat (WUYE_WECHAT_TOKEN) needs the"
                " account's AppID from the WeChat console"
            )
        if settings.wechat_app_secret is None:
            problems.append(
                "WUYE_WECHAT_APP_SECRET is not set: WeChat (WUYE_WECHAT_TOKEN) needs the"
                " AppSecret to send notices and the replies that take longer than 5 s"
            )
        if settings.wechat_mode == "safe" and settings.wechat_aes_key is None:
            problems.append(
                "WUYE_WECHAT_AES_KEY is not set: WUYE_WECHAT_MODE=safe needs the"
                " EncodingAESKey from the WeChat console"
            )
    if settings.wecom_corp_id is not None:
        if settings.wecom_agent_id is None:
            problems.append(
                "WUYE_WECOM_AGENT_ID is not set: WeCom (WUYE_WECOM_CORP_ID) needs the AgentId"
                " of the app that sends the notices"
            )
        if settings.wecom_secret is None:
            problems.append(
                "WUYE_WECOM_SECRET is not set: WeCom (WUYE_WECOM_CORP_ID) needs the app's"
                " Secret to send notices"
            )
    return problems


def check_serving(settings: Settings, *, command: str = "wuye serve", webhook: bool = True) -> None:
    """Raise SettingsError, whose message says what to set, when these settings cannot serve."""
    problems = serving_problems(settings, webhook=webhook)
    if len(problems) == 1:
        raise SettingsError(f"{command}: {problems[0]}")
    if problems:
        raise SettingsError(f"{command} cannot start:\n  " + "\n  ".join(problems))
