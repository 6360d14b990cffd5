"""Texts of registration (the consent text itself is in handlers/common/onboarding.py)."""

from __future__ import annotations

import html

from aiogram.utils.i18n import gettext as _


def greeting(first_name: str | None) -> str:
    return _(
        "Hello, {name}! I am the self-service cabinet of your utility company.\n"
        "Here you can see what you owe, get a receipt, send meter readings and "
        "ask a question."
    ).format(name=html.escape(first_name or ""))


def declined() -> str:
    return _(
        "Without your consent we cannot store your phone or show your accounts, "
        "so the cabinet is not available. Nothing about you has been saved. "
        "If you change your mind, send /start."
    )


def contact_refused(reason: str) -> str:
    if reason == "not_own":
        return _(
            "This is not your contact. Please share <b>your own</b> number with the "
            "«Share my phone number» button below."
        )
    return _(
        "This phone number does not look valid. Please share your number with the button below."
    )


def phone_expected() -> str:
    return _(
        "I need your phone number, sent with the «Share my phone number» button "
        "below — a typed number cannot be checked. Or press «Cancel»."
    )


def consent_expected() -> str:
    return _("Please answer the consent request first: «I agree» or «I decline».")


def next_step() -> str:
    return _(
        "Next, link your personal account to see what you owe and to send meter readings. "
        "Have your receipt at hand: you will need the account number."
    )
