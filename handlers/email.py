"""Settings → E-mail, verified by a code (filled in by the confirmation-codes feature)."""

from __future__ import annotations

from aiogram import Router


def create_router() -> Router:
    return Router(name="email")
