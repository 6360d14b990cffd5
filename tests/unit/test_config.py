"""Settings: defaults, and one clear line per invalid variable."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.config import Settings, SettingsError, load_settings

GOOD = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("BOT_TOKEN", "DATABASE_URL", "DEFAULT_LOCALE", "STAFF_CHAT_ID", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert s.bot_token is None
    assert s.database_url == "sqlite+aiosqlite:///data/kabinet.db"
    assert s.api_base == "https://api.telegram.org"
    assert (s.default_locale, s.code_ttl_minutes, s.link_attempts_per_day) == ("ru", 30, 10)
    assert s.staff_chat_id is None and s.redis_url is None and not s.email_enabled


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"BOT_TOKEN={GOOD}\nSTAFF_CHAT_ID=-100123\n", encoding="utf-8")
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    s = load_settings()
    assert s.bot_token is not None and s.bot_token.get_secret_value() == GOOD
    assert s.staff_chat_id == -100123 and s.default_locale == "en"
    assert GOOD not in repr(s)  # the token is a secret


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"bot_token": "nonsense"}, "BOT_TOKEN: does not look like a token"),
        ({"staff_chat_id": "12345"}, "STAFF_CHAT_ID: must be a group id"),
        ({"staff_chat_id": "abc"}, "STAFF_CHAT_ID: Input should be a valid integer"),
        ({"default_locale": "de"}, "DEFAULT_LOCALE: Input should be 'ru' or 'en'"),
        ({"database_url": "mysql://x"}, "DATABASE_URL: must be sqlite+aiosqlite"),
        ({"redis_url": "http://x"}, "REDIS_URL: must start with redis://"),
        ({"web_port": "70000"}, "WEB_PORT: Input should be less than or equal to 65535"),
        ({"telegram_api_url": "not a url"}, "TELEGRAM_API_URL:"),
        ({"sms_provider": "http"}, "SMS_PROVIDER=http needs SMS_HTTP_URL"),
    ],
)
def test_invalid_values_name_the_variable(overrides: dict[str, str], expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(**overrides)
    assert expected in str(err.value)


def test_run_without_token_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "BOT_TOKEN is not set" in err and "@BotFather" in err and ".env" in err
    assert "`make demo`" in err  # the way to see the bot without Telegram
    assert not (tmp_path / "data").exists()  # nothing created before the token check


def test_invalid_configuration_exits_with_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CODE_TTL_MINUTES", "zero")
    assert main(["migrate"]) == 2
    assert "CODE_TTL_MINUTES" in capsys.readouterr().err
