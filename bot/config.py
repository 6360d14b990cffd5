"""Settings: read once from the environment and `.env`, then passed down explicitly.

Nothing here is global state: `load_settings()` builds a fresh `Settings` every call, and
the application factories take it as an argument, so tests build their own.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_RE = re.compile(r"^\d{5,20}:[A-Za-z0-9_-]{30,}$")


class SettingsError(Exception):
    """Raised with one human-readable line per invalid variable."""


class MissingToken(Exception):
    """BOT_TOKEN is needed (to run the bot) and not set."""


def require_token(settings: Settings) -> str:
    if settings.bot_token is None:
        raise MissingToken(
            "BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot), "
            "copy the token it gives you and put BOT_TOKEN=<token> into .env "
            "(see .env.example) or the environment. To see the bot first without Telegram, "
            "run `make demo`: the real bot in a browser chat."
        )
    return settings.bot_token.get_secret_value()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    bot_token: SecretStr | None = Field(default=None, description="the bot's token from @BotFather")
    telegram_api_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://api.telegram.org"))
    database_url: str = "sqlite+aiosqlite:///data/kabinet.db"
    redis_url: str | None = None
    staff_chat_id: int | None = None
    default_locale: Literal["ru", "en"] = "ru"
    privacy_policy_url: AnyHttpUrl | None = None
    consent_version: str = Field(default="1", min_length=1, max_length=32)
    #: how residents reach a person when the bot cannot help: the office's phone, address,
    #: hours (free text, shown in /help and wherever the bot has to say no)
    support_contact: str | None = Field(default=None, max_length=500)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    webhook_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = None
    admin_api_token: SecretStr | None = None
    api_max_body_mb: float = Field(default=50, gt=0)

    sms_provider: Literal["log", "http"] = "log"
    sms_http_url: AnyHttpUrl | None = None
    sms_http_method: Literal["GET", "POST"] = "POST"
    sms_http_auth_header: SecretStr | None = None
    sms_http_body: str = '{"to": "{phone}", "text": "{text}"}'
    sms_http_content_type: str = "application/json"
    sms_http_timeout: float = Field(default=10, gt=0)
    sms_http_retries: int = Field(default=3, ge=1, le=10)

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_timeout: float = Field(default=15, gt=0)

    code_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    link_attempts_per_day: int = Field(default=10, ge=1, le=1000)
    reading_spike_factor: float = Field(default=5, gt=1)
    # monthly ceilings of consumption per meter zone, used while a meter has less than six
    # months of history (m³, Gcal, m³, kWh)
    reading_ceiling_water: Decimal = Field(default=Decimal(30), gt=0)
    reading_ceiling_heat: Decimal = Field(default=Decimal(5), gt=0)
    reading_ceiling_gas: Decimal = Field(default=Decimal(1000), gt=0)
    reading_ceiling_electricity: Decimal = Field(default=Decimal(3000), gt=0)
    reading_early_days: int = Field(default=0, ge=0, le=20)
    reading_refuse_unverified: bool = False
    reading_reminders: bool = True
    reading_reminder_from_hour: int = Field(default=10, ge=0, le=23)
    reading_reminder_to_hour: int = Field(default=20, ge=1, le=24)
    reading_reminder_check_seconds: float = Field(default=300, gt=0, le=3600)
    bulk_messages_per_second: float = Field(default=25, gt=0, le=30)
    payments_provider_token: SecretStr | None = None
    #: worker processes that render receipts and charts (0: threads in this process)
    render_workers: int = Field(default=1, ge=0, le=32)
    # --- billing import (issue 13 item 7) ---
    #: worker processes that parse a billing CSV of more than ~5,000 rows during its
    #: import, started for that import only (0: a thread of the importing process)
    import_workers: int = Field(default=1, ge=0, le=32)
    # --- end billing import ---
    # --- staff ---
    #: decisions in the staff chat (approve / reject a link or a reading, ban, unban,
    #: notice) by the chat's administrators only; otherwise by every member
    staff_admins_only: bool = False
    # --- end staff ---

    # --- support conversations (issue 11, handlers/support/) ---------------------
    #: when operators work, Moscow time: "Mon-Fri 09:00-18:00; Sat 10:00-14:00" (unset:
    #: around the clock); residents writing outside them are told when to expect an answer
    support_hours: str | None = Field(default=None, max_length=200)
    #: operators see residents' full phone numbers on the topic card (default: masked)
    staff_see_full_phone: bool = False

    # --- production: Telegram's failures, shutdown (issue 13, prod) ---------------------
    #: seconds one Bot API request may take before it counts as failed (getUpdates adds its
    #: long-polling wait to this)
    telegram_timeout_seconds: float = Field(default=60, gt=0, le=600)
    #: tries of one Bot API request on 429, 5xx and network errors (1: no retry); a message
    #: whose outcome is unknown (5xx, timeout, dropped connection) is sent at most twice
    telegram_retry_attempts: int = Field(default=4, ge=1, le=10)
    #: the longest pause between two tries (exponential backoff with jitter up to it)
    telegram_retry_max_wait: float = Field(default=8, gt=0, le=120)
    #: after SIGTERM: how long the updates in flight may take to finish
    shutdown_grace_seconds: float = Field(default=20, ge=0, le=600)
    #: how long a handled update_id is remembered (Telegram re-sends for up to 24 h)
    processed_updates_keep_hours: int = Field(default=48, ge=1, le=24 * 30)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() == "":
            return None
        if value is not None and not TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("does not look like a token from @BotFather (digits:letters)")
        return value

    @field_validator(
        "staff_chat_id",
        "redis_url",
        "privacy_policy_url",
        "webhook_url",
        "support_contact",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("payments_provider_token")
    @classmethod
    def _empty_token_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is not None and not value.get_secret_value().strip() else value

    @field_validator("staff_chat_id")
    @classmethod
    def _staff_is_group(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError("must be a group id, a negative number such as -1001234567890")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must be sqlite+aiosqlite:///path or postgresql+asyncpg://user:pass@host/db"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("support_hours")
    @classmethod
    def _support_hours(cls, value: str | None) -> str | None:
        from bot.services.support.hours import parse_hours

        if value is None or not value.strip():
            return None
        parse_hours(value)  # HoursError (a ValueError) says what is wrong
        return value.strip()

    @model_validator(mode="after")
    def _consistency(self) -> Settings:
        if self.sms_provider == "http" and self.sms_http_url is None:
            raise ValueError("SMS_PROVIDER=http needs SMS_HTTP_URL")
        if self.smtp_host and not self.smtp_from:
            raise ValueError("SMTP_HOST is set but SMTP_FROM is not")
        if self.reading_reminder_from_hour >= self.reading_reminder_to_hour:
            raise ValueError(
                "READING_REMINDER_FROM_HOUR must be before READING_REMINDER_TO_HOUR (Moscow time)"
            )
        return self

    # --- derived ---------------------------------------------------------------
    @property
    def api_base(self) -> str:
        return str(self.telegram_api_url).rstrip("/")

    @property
    def webhook_path(self) -> str:
        if self.webhook_url is None:
            return "/webhook"
        return self.webhook_url.path or "/webhook"

    @property
    def payments_enabled(self) -> bool:
        """Payment in Telegram is offered only with a provider token from @BotFather."""
        return self.payments_provider_token is not None

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)


def load_settings(**overrides: object) -> Settings:
    """Build Settings; turn pydantic's errors into `VARIABLE: what is wrong` lines."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"]).upper() or "settings"
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{name}: {msg}")
        raise SettingsError("\n".join(lines)) from None
