"""Texts of the staff commands (/find, /stats, /ban, /unban, /notice), in DEFAULT_LOCALE."""

from __future__ import annotations

import html
from decimal import Decimal

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.services.balance.money import format_money
from bot.services.bans import BanOutcome, BanResult
from bot.services.enums import LinkStatus
from bot.services.notices import NoticeDraft, NoticeProblem, StartOutcome
from bot.services.phones import mask_phone
from bot.services.ports import NoticeMessage, NoticeProgress
from bot.services.staff_lookup import MIN_QUERY, FindPage, FoundAccount, FoundResident
from bot.services.staff_stats import StaffStats
from handlers.common.texts import ADDRESS_LIMIT, NAME_LIMIT, esc, moscow_time

MESSAGE_LIMIT = 4096

#: as on a ticket's card (handlers/support/texts.py): a name, not a code
LANGUAGE_NAMES = {"ru": "русский", "en": "English"}


def not_member() -> str:
    return _("Only members of the staff chat can use staff commands.")


def not_member_button(decision: bool) -> str:
    if decision:
        return _("Only members of the staff chat can decide requests.")
    return _("Only members of the staff chat can use these buttons.")


def not_admin() -> str:
    return _("Only administrators of the staff chat can decide this (STAFF_ADMINS_ONLY is on).")


def staff_chat_only() -> str:
    return _("This works only in the operators' chat.")


def find_usage() -> str:
    return _(
        "Usage: /find phone, account number, or a part of a name or an address "
        "(at least {count} characters). For example: /find +7 916 123-45-67, "
        "/find 1000000003, /find Иванова, /find Ленина 5"
    ).format(count=MIN_QUERY)


def find_gone() -> str:
    return _("The search message is gone: send /find again.")


def _money(amount: Decimal) -> str:
    return format_money(amount, get_i18n().current_locale)


def _balance(value: Decimal | None) -> str:
    if value is None:
        return _("no charges")
    if value > 0:
        return _("debt {sum}").format(sum=_money(value))
    if value < 0:
        return _("advance {sum}").format(sum=_money(-value))
    return _("paid up")


def _link(status: LinkStatus | None) -> str:
    if status is LinkStatus.ACTIVE:
        return _("linked")
    if status is LinkStatus.PENDING:
        return _("request pending")
    if status is LinkStatus.REJECTED:
        return _("request rejected")
    return _("no resident linked")


def _account_line(a: FoundAccount, with_holder: bool) -> str:
    line = _("🏠 {supplier}, № <code>{number}</code> ({link}), {address}").format(
        supplier=esc(a.supplier, NAME_LIMIT),
        number=esc(a.number),
        link=_link(a.link),
        address=esc(a.address, ADDRESS_LIMIT) or "—",
    )
    if with_holder:
        line += ", " + _("holder {holder}").format(holder=esc(a.holder, NAME_LIMIT) or "—")
    return line + " — " + _balance(a.balance)


def _resident(r: FoundResident) -> str:
    head = _("👤 <b>{name}</b>, id <code>{id}</code>, {phone}").format(
        name=esc(r.name, NAME_LIMIT) or "—",
        id=r.user_id,
        phone=mask_phone(r.phone) if r.phone else _("no phone"),
    )
    if r.banned:
        head += " " + _("⛔ banned")
    if r.inactive:
        head += " " + _("💤 blocked the bot")
    lines = [head]
    if r.registered_at is not None:
        lines.append(
            _("Language: {language}; registered {when}").format(
                language=LANGUAGE_NAMES.get(r.language or "", r.language or "—"),
                when=moscow_time(r.registered_at),
            )
        )
    lines += ["  " + _account_line(a, False) for a in r.accounts[:10]]
    if not r.accounts:
        lines.append("  " + _("no accounts"))
    elif len(r.accounts) > 10:
        lines.append("  " + _("…and {count} more").format(count=len(r.accounts) - 10))
    return "\n".join(lines)


def find_text(found: FindPage) -> str:
    if found.total == 0:
        return _("Nothing found for «{query}».").format(query=esc(found.query))
    head = _("🔎 «{query}»: found {total}, page {page} of {pages}").format(
        query=esc(found.query), total=found.total, page=found.page + 1, pages=found.pages
    )
    cards = [_resident(r) for r in found.residents]
    cards += [_account_line(a, True) for a in found.accounts]
    text = head
    for card in cards:
        if len(text) + len(card) + 2 > MESSAGE_LIMIT - 50:
            return text + "\n\n…"
        text += "\n\n" + card
    return text


def stats_text(stats: StaffStats) -> str:
    lines = [_("📊 <b>Now</b> (period {period})").format(period=stats.period)]
    lines += [f"{_(line.label)}: <b>{line.value}</b>" for line in stats.lines]
    return "\n".join(lines)


def ban_usage() -> str:
    return _(
        "Usage: /ban resident reason — the resident by phone or Telegram id (/find shows both). "
        "For example: /ban +7 916 123-45-67 insults operators"
    )


def unban_usage() -> str:
    return _("Usage: /unban resident — by phone or Telegram id (/find shows both).")


def ban_text(result: BanResult) -> str:
    who = _("{name} (id {id})").format(name=esc(result.name or "—", NAME_LIMIT), id=result.user_id)
    reason = esc(result.reason or "—", 300)
    match result.outcome:
        case BanOutcome.BANNED:
            return _("⛔ {who} is banned. Reason: {reason}").format(who=who, reason=reason)
        case BanOutcome.ALREADY_BANNED:
            return _("{who} is already banned. Reason: {reason}").format(who=who, reason=reason)
        case BanOutcome.UNBANNED:
            return _("✅ {who} is no longer banned.").format(who=who)
        case BanOutcome.NOT_BANNED:
            return _("{who} is not banned.").format(who=who)
        case BanOutcome.AMBIGUOUS:
            return _("Several residents have this phone: {ids}. Name one by Telegram id.").format(
                ids=", ".join(str(i) for i in result.candidates)
            )
        case BanOutcome.USERNAME:
            return _(
                "The bot does not store Telegram usernames: name the resident by phone or "
                "Telegram id (/find shows both)."
            )
    return _("No resident found. Check the phone or Telegram id (/find helps).")


def notice_usage() -> str:
    return _(
        "Usage: /notice SUPPLIER_CODE text — for example: /notice VODA Water will be off "
        "on 5 December from 10:00 to 14:00."
    )


def notice_problem(problem: NoticeProblem, code: str) -> str:
    if problem is NoticeProblem.UNKNOWN_SUPPLIER:
        return _("No supplier with the code «{code}».").format(code=esc(code, 32))
    if problem is NoticeProblem.TOO_LONG:
        return _("The text is too long: at most 3500 characters (an emoji counts as two).")
    if problem is NoticeProblem.NOBODY:
        return _("No resident has an active link to an account of «{code}».").format(
            code=esc(code, 32)
        )
    return notice_usage()


def resident_notice(message: NoticeMessage) -> str:
    """The notice as a resident gets it (the header in their language)."""
    return (
        _("📢 <b>Notice from {supplier}</b>").format(supplier=esc(message.supplier, NAME_LIMIT))
        + "\n\n"
        + html.escape(message.text)
    )


def notice_preview(draft: NoticeDraft) -> str:
    # no quotes around the name: suppliers' names carry their own («ООО «Горгаз»»)
    head = _("Preview of notice #{id} (supplier: {supplier}, recipients: {count}):").format(
        id=draft.notice_id, count=draft.audience, supplier=esc(draft.supplier, NAME_LIMIT)
    )
    return head + "\n\n" + resident_notice(NoticeMessage(draft.supplier, draft.text))


def notice_start_answer(outcome: StartOutcome) -> str:
    if outcome is StartOutcome.STARTED:
        return _("Sending.")
    if outcome is StartOutcome.CANCELLED:
        return _("This notice was cancelled.")
    if outcome is StartOutcome.GONE:
        return _("This notice is no longer there.")
    if outcome is StartOutcome.BUSY:
        return notice_busy()
    return _("This notice is already being sent or was sent.")


def notice_busy() -> str:
    return _("Another notice is being sent now: press Send again when it is finished.")


def notice_cancelled() -> str:
    return _("Notice cancelled: nothing was sent.")


def progress_text(p: NoticeProgress) -> str:
    done = p.delivered + p.blocked + p.failed
    if p.done:
        return _(
            "📢 Notice #{id} ({supplier}) is sent: delivered {delivered}, blocked the bot "
            "{blocked}, failed {failed} (of {total})."
        ).format(
            id=p.notice_id,
            supplier=esc(p.supplier, NAME_LIMIT),
            delivered=p.delivered,
            blocked=p.blocked,
            failed=p.failed,
            total=p.total,
        )
    return _(
        "📢 Notice #{id} ({supplier}): sending… {done} of {total} (delivered {delivered}, "
        "blocked {blocked}, failed {failed})"
    ).format(
        id=p.notice_id,
        supplier=esc(p.supplier, NAME_LIMIT),
        done=done,
        total=p.total,
        delivered=p.delivered,
        blocked=p.blocked,
        failed=p.failed,
    )
