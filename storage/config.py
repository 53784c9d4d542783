"""Settings, read from ``WUYE_*`` environment variables and an optional ``.env`` file.

The numbers of the procedures are settings whose defaults are the seed
documents' values, so a company with stricter rules changes a variable, not code.
"""

from __future__ import annotations

import re
from datetime import time as dt_time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    # Telegram: unset token means no Telegram channel.
    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    # Where Telegram reaches `wuye serve` (https://…); unset: set no webhook (use `wuye poll`).
    public_url: str | None = None
    # A local Bot API server, or a fake one in tests.
    telegram_api_base_url: str = "https://api.telegram.org"
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
    # 003 三(五): a problem found at callback goes back for rework within 24 hours.
    rework_hours: Hours = 24
    # 001: a patrol finding is resolved within one week; longer needs a manager.
    patrol_fix_days: Days = 7
    # 003 篇十: a complaint is handled within 24 h; 篇十二 三(三): replied within 72 h.
    complaint_handle_hours: Hours = 24
    complaint_reply_hours: Hours = 72
    # 003 篇十二 三(二): emergency repairs are taken this many hours a day (365天24小时).
    emergency_repair_hours: Annotated[int, Field(ge=1, le=24)] = 24
    # 003 七(二)3: the 排列图's "vital few" are the problems that make up this share of all.
    pareto_vital_percent: Annotated[int, Field(ge=50, le=99)] = 80

    # 001: fixed but not verified on site within this many days → customer service.
    patrol_verify_days: Days = 2
    # 000 3.12: the quality specialist re-checks at least 3 callbacks a week by phone.
    quality_sample_size: Annotated[int, Field(ge=1, le=100)] = 3
    # 001 4.10: patrol records are kept two years, then archived.
    retention_days: Annotated[int, Field(ge=30, le=3650)] = 730
    # Reminders are not sent at night; one due in these hours waits for the morning.
    quiet_hours_start: dt_time = dt_time(21, 0)
    quiet_hours_end: dt_time = dt_time(8, 0)
    # How often the clock's jobs run: once a minute is what the procedures need.
    clock_tick_seconds: Annotated[int, Field(ge=1, le=3600)] = 60

    invite_valid_days: Days = 7
    # A new chat account that proves unit + phone is bound at once, or waits for the desk.
    bind_requires_approval: bool = False
    # A conversation left this long forgets where it was and says so.
    conversation_idle_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    sqlite_busy_timeout_ms: Annotated[int, Field(ge=0, le=600_000)] = 5_000
    # PostgreSQL: a pooled connection idle this long is tested before use. One in steady use
    # is not (a round trip per message); if it dies anyway, the message is taken again.
    database_ping_after_idle_seconds: Annotated[float, Field(ge=0, le=3600)] = 30

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
