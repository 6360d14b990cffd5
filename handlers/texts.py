"""Message ids shared by several handlers (buttons mostly).

`N_` marks a string for extraction into the catalogs without translating it here; it is
translated where it is shown, with `_()` in the resident's language.
"""


def N_(msgid: str) -> str:
    return msgid


BTN_BALANCE = N_("💳 Balance")
BTN_READINGS = N_("📟 Meter readings")
BTN_ACCOUNTS = N_("🏠 My accounts")
BTN_SUPPORT = N_("💬 Contact support")
BTN_SETTINGS = N_("⚙️ Settings")
BTN_SHARE_PHONE = N_("📱 Share my phone number")
BTN_CANCEL = N_("✖️ Cancel")
