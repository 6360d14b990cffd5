"""Texts in a given language, inside an update or outside one (a scheduler's round)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aiogram.utils.i18n import I18n


@contextmanager
def speaking(i18n: I18n, locale: str) -> Iterator[None]:
    """gettext in `locale`; outside an update aiogram's I18n context is not set, so set it."""
    with i18n.context(), i18n.use_locale(locale):
        yield
