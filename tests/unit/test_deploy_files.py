"""The deployment files as far as this machine can check them (it has no Docker):
docker-compose.yml parses and names only real settings, the Dockerfile's steps run here,
the container's health check reads /healthz."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from bot.config import Settings
from bot.lifecycle import Lifecycle
from bot.web.app import LIFECYCLE_KEY, create_web_app
from storage.db import Database
from tests.e2e.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {name.upper() for name in Settings.model_fields}
#: what the PostgreSQL image reads, and compose's own interpolation
NOT_OURS = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments), continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.startswith("#")))
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (ln.strip() for ln in text.splitlines())
        if line
    ]


def test_compose_has_the_bot_the_databases_volumes_and_health_checks() -> None:
    services = compose()["services"]
    assert {"bot", "migrate", "postgres", "redis"} <= set(services)
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["volumes"], name
    assert set(compose()["volumes"]) == {"pgdata", "redisdata"}
    bot = services["bot"]
    assert bot["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert bot["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert bot["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert services["migrate"]["command"] == ["migrate"]
    assert bot["command"] == ["run"]
    assert "stop_grace_period" in bot


def test_every_variable_compose_gives_the_bot_is_a_setting() -> None:
    services = compose()["services"]
    for name in ("bot", "migrate"):
        unknown = set(services[name]["environment"]) - SETTINGS
        assert not unknown, f"{name}: not Settings fields: {unknown}"
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    interpolated = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert interpolated <= SETTINGS | NOT_OURS, interpolated - SETTINGS - NOT_OURS


def test_compose_urls_are_what_settings_accept() -> None:
    env = compose()["services"]["bot"]["environment"]
    url = env["DATABASE_URL"].replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}", "pw")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        redis_url=env["REDIS_URL"],
        web_host=env["WEB_HOST"],
        web_port=int(env["WEB_PORT"]),
        shutdown_grace_seconds=float(env["SHUTDOWN_GRACE_SECONDS"]),
    )
    assert settings.database_url.startswith("postgresql+asyncpg://kabinet:pw@postgres:5432/")


def test_env_example_names_only_settings() -> None:
    names = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert names - SETTINGS <= NOT_OURS, names - SETTINGS - NOT_OURS


def test_the_image_is_slim_non_root_with_a_health_check() -> None:
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(op == "HEALTHCHECK" and "bot.healthcheck" in args for op, args in steps)
    assert ("CMD", '["run"]') in steps
    assert any(op == "RUN" and "pybabel compile" in args for op, args in steps)


def test_what_the_dockerfile_copies_exists_and_is_not_docker_ignored() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for op, args in dockerfile():
        if op != "COPY" or args.startswith("--from"):
            continue
        *sources, _dest = args.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.split("/")[0] not in ignored, source


def test_the_dockerfiles_build_steps_run_here(tmp_path: Path) -> None:
    """The catalog step in a copy of what the image gets (pip needs the network: not run)."""
    for part in ("locales", "bot", "handlers", "storage"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("*.mo"))
    babel = Path(sys.executable).with_name("pybabel")
    [compile_step] = [
        args for op, args in dockerfile() if op == "RUN" and "pybabel compile" in args
    ]
    commands = [c.strip() for c in compile_step.split("&&")]
    assert commands[0] == "pybabel compile -d locales -D messages --statistics"
    subprocess.run([str(babel), *commands[0].split()[1:]], cwd=tmp_path, check=True)
    for lang in ("ru", "en"):
        assert (tmp_path / "locales" / lang / "LC_MESSAGES" / "messages.mo").stat().st_size > 0
    check = commands[1].removeprefix('python -c "').removesuffix('"')
    subprocess.run([sys.executable, "-c", check], cwd=tmp_path, check=True)


def test_the_migrate_service_command_migrates(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    done = subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "migrated to head" in done.stdout


@pytest.mark.parametrize("stopping", [False, True])
async def test_the_health_check_follows_healthz(
    settings: Settings, db: Database, stopping: bool
) -> None:
    app = create_web_app(settings, db)
    lifecycle = Lifecycle()
    app[LIFECYCLE_KEY] = lifecycle
    if stopping:
        lifecycle.stop_accepting()
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.healthcheck",
            cwd=ROOT,
            env={**os.environ, "WEB_PORT": str(port)},
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert await proc.wait() == (1 if stopping else 0)
    finally:
        await runner.cleanup()
