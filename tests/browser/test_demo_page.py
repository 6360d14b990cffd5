"""`make demo` in Chromium: residents register, link accounts (one tap, SMS, an operator),
look at their balance and readings, and an operator decides in the staff pane.

Buttons are found by what stays when their wording changes: inline buttons by their callback
data (packed with the bot's own CallbackData classes) or position, reply buttons by their label
from the catalogs. Balance and readings are still being built: their steps run as far as the
bot goes, and say so (at the end of the run) when the bot answers that a section is coming soon.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from handlers.accounts.callbacks import LinkRoute, LinkRouteCb
from handlers.common.callbacks import (
    AccountPickCb,
    ConsentAction,
    ConsentCb,
    LinkAccountCb,
    PickPurpose,
    SettingsAction,
    SettingsCb,
)
from handlers.common.texts import BTN_ACCOUNTS, BTN_BALANCE, BTN_READINGS, BTN_SETTINGS
from sandbox import make_png
from tests.browser.conftest import NOTES, Pane, Shots, tr
from tests.support.demo import DemoProcess, demo_accounts

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

UK_NAME = "ООО «УК Заречье»"  # the demo data's housing company (bot/services/demo.py)
BALANCE_SOON = "Balance and receipts are coming soon: we are preparing this section."
READINGS_SOON = "Sending meter readings is coming soon: we are preparing this section."
#: the demo's residents, in the order the page lists them (scripts/demo.py `residents`)
TYPICAL, ACCESS_CODE, SMS, NO_PHONE, DEBTOR, OVERPAID, EXPIRED, ENGLISH = range(8)


def open_page(browser: BrowserContext, demo: DemoProcess, shots: Shots, query: str = "") -> Page:
    page = browser.new_page()
    shots.pages.append(page)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(demo.url + "/" + query)
    page.locator("#resident[data-ready]").wait_for()
    page.errors = errors  # type: ignore[attr-defined]
    return page


def choose(page: Page, index: int) -> Pane:
    """Act as the index-th resident of the list; returns their chat pane."""
    person = page.locator(".person").nth(index)
    person.click()
    expect(person).to_have_class(re.compile("active"))
    page.wait_for_function(
        "id => document.getElementById('resident').dataset.chat === id",
        arg=person.get_attribute("data-user"),
    )
    page.locator("#resident[data-ready]").wait_for()
    return Pane(page, "#resident")


def register(chat: Pane, shots: Shots | None = None) -> None:
    """START → the consent's first button → «Share my phone number» → the main menu."""
    page = chat.page
    start = chat.root.locator(".start")
    expect(start).to_be_visible()
    start.click()
    consent = chat.wait_new(0, containing="152")
    agree = consent.locator(".ikb-btn").first  # its first button agrees, whatever it says
    assert agree.get_attribute("data-cb") == ConsentCb(action=ConsentAction.AGREE).pack()
    if shots:
        shots.take(page, "consent")
    before = chat.count()
    agree.click()
    expect(consent.locator(".ikb")).to_have_count(0)  # edited in place: the buttons are gone
    chat.wait_new(before)
    share = chat.root.locator(".keyboard .rkb-btn[data-contact]")
    expect(share).to_be_visible()
    if shots:
        shots.take(page, "share-phone")
    before = chat.count()
    share.click()
    chat.wait_new(before)
    expect(chat.root.locator(".messages > .msg.own .contact")).to_have_count(1)
    expect(chat.root.locator(".keyboard .rkb-btn")).not_to_have_count(0)


def registered(
    browser: BrowserContext, demo: DemoProcess, shots: Shots, who: int
) -> tuple[Pane, Pane]:
    """A new page, the `who`-th resident registered: (their chat, the staff chat)."""
    page = open_page(browser, demo, shots)
    chat = choose(page, who)
    register(chat)
    return chat, Pane(page, "#staff")


def menu(chat: Pane, label: str, lang: str = "ru") -> str:
    """Press a main-menu button; the text of the bot's answer."""
    before = chat.count()
    chat.reply_button(tr(lang, label)).click()
    return str(chat.wait_new(before).locator(".text").inner_text())


def start_linking(chat: Pane, number: str) -> None:
    """My accounts → Link an account → the housing company → the number."""
    menu(chat, BTN_ACCOUNTS)
    before = chat.count()
    chat.inline(LinkAccountCb().pack()).click()
    choice = chat.wait_new(before)
    before = chat.count()
    choice.locator(".ikb-btn", has_text=UK_NAME).click()
    chat.wait_new(before)
    before = chat.count()
    chat.send(number)
    chat.wait_new(before)


def ask_operator(chat: Pane, number: str, name: str, address: str) -> None:
    """Link `number` by asking an operator, up to the question about a photo of the receipt."""
    start_linking(chat, number)
    before = chat.count()
    chat.inline(LinkRouteCb(route=LinkRoute.OPERATOR).pack()).click()
    chat.wait_new(before)
    for answer in (name, address):
        before = chat.count()
        chat.send(answer)
        chat.wait_new(before)
    photo = LinkRouteCb(route=LinkRoute.SKIP_PHOTO).pack()
    expect(chat.last_bot().locator(f'.ikb-btn[data-cb="{photo}"]')).to_have_count(1)


def test_a_resident_registers_links_with_one_tap_and_checks_balance_and_readings(
    browser: BrowserContext, demo: DemoProcess, shots: Shots
) -> None:
    page = open_page(browser, demo, shots)
    shots.take(page, "page")
    chat = choose(page, TYPICAL)
    register(chat, shots)
    accounts = demo_accounts()
    home, gas = accounts["typical"].number, accounts["gas"].number
    offer = chat.bot_messages().filter(has=page.locator('[data-cb^="sug:"]')).last
    expect(offer.locator('.ikb-btn[data-cb^="sug:"]')).to_have_count(2)
    shots.take(page, "one-tap-offer")
    for number in (home, gas):
        before = chat.count()
        offer.locator(".ikb-btn", has_text=number).click()
        chat.wait_new(before, containing=number)
    listed = menu(chat, BTN_ACCOUNTS)
    assert home in listed and gas in listed
    shots.take(page, "my-accounts")
    balance = section(chat, shots, BTN_BALANCE, BALANCE_SOON, PickPurpose.BALANCE, home)
    if balance is not None:
        assert home in balance and "₽" in balance, balance
    readings = section(chat, shots, BTN_READINGS, READINGS_SOON, PickPurpose.READINGS, home)
    if readings is not None:  # the meters of the account, or when its window opens
        assert re.search(r"вод|Электроэнерг|счётчик|Показания принимаются", readings), readings
    assert page.errors == []  # type: ignore[attr-defined]


def picks(purpose: PickPurpose) -> str:
    """The start of the account picker's callback data for a purpose ("pick:b:")."""
    return AccountPickCb(purpose=purpose, account_id=0).pack().removesuffix("0")


def section(
    chat: Pane, shots: Shots, label: str, soon: str, purpose: PickPurpose, number: str
) -> str | None:
    """A main-menu section's answer, through the account picker (the account `number`) if it
    asks; None, noted for the end of the run, while the bot says the section is coming soon."""
    name = "balance" if purpose is PickPurpose.BALANCE else "readings"
    answer = menu(chat, label)
    shots.take(chat.page, name)
    if answer == tr("ru", soon):
        NOTES.append(f"{name}: the bot says «{answer}» (not released yet); step skipped")
        return None
    offered = chat.last_bot().locator(f'.ikb-btn[data-cb^="{picks(purpose)}"]')
    if offered.count():
        question = chat.last_bot().locator(".text").inner_text()
        offered.filter(has_text=number).first.click()
        # the answer may come as a new message or redraw the question in place (balance)
        expect(chat.last_bot().locator(".text")).not_to_have_text(question, timeout=20_000)
        answer = str(chat.last_bot().locator(".text").inner_text())
        shots.take(chat.page, f"{name}-of-account")
    return answer


def test_an_operator_approves_a_request_in_the_staff_pane(
    browser: BrowserContext, demo: DemoProcess, shots: Shots
) -> None:
    chat, staff = registered(browser, demo, shots, NO_PHONE)
    page = chat.page
    number = demo_accounts()["no phone"].number
    ask_operator(chat, number, "Иванова Анна Викторовна", "г. Тверь, пр-т Победы, д. 41, кв. 17")
    shots.take(page, "asks-for-a-photo")
    cards = staff.count()
    before = chat.count()
    chat.root.locator(".composer input[type=file]").set_input_files(
        files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": make_png(640, 400)}]
    )
    expect(chat.root.locator(".messages > .msg.own .photo img")).to_have_count(1)
    chat.wait_new(before)
    card = staff.wait_new(cards, containing=number)
    expect(card.locator(".photo img")).to_have_count(1)
    approve = card.locator('.ikb-btn[data-cb^="slk:approve:"]')
    shots.take(page, "card-in-staff-pane")
    before = chat.count()
    approve.click()
    expect(card.locator(".ikb")).to_have_count(0)  # the card is edited: decided, no buttons
    operator = page.locator("#staff select.operator option:checked").inner_text()
    expect(card.locator(".text")).to_contain_text(operator)  # who decided
    told = chat.wait_new(before, containing=number)
    shots.take(page, "approved")
    assert number in told.inner_text()


def test_a_code_sent_by_sms_shows_on_the_page_and_links_the_account(
    browser: BrowserContext, demo: DemoProcess, shots: Shots
) -> None:
    number = demo_accounts()["two phones"].number
    chat, _ = registered(browser, demo, shots, SMS)
    page = chat.page
    start_linking(chat, number)
    before = chat.count()
    chat.inline(LinkRouteCb(route=LinkRoute.SMS).pack()).click()
    chat.wait_new(before)
    sms = page.locator("#sms-list li", has_text=number).first
    expect(sms).to_be_visible()
    code = re.search(r"\b\d{6}\b", sms.inner_text())
    assert code, sms.inner_text()
    shots.take(page, "sms")
    before = chat.count()
    chat.send(code.group())
    linked = chat.wait_new(before, containing=number)
    shots.take(page, "linked")
    assert "✅" in linked.inner_text()


def test_an_english_speaking_resident_and_the_page_in_english(
    browser: BrowserContext, demo: DemoProcess, shots: Shots
) -> None:
    page = open_page(browser, demo, shots, "?lang=en")
    expect(page.locator(".people h2").first).to_have_text("Residents")
    chat = choose(page, ENGLISH)
    register(chat)
    for label in (BTN_BALANCE, BTN_ACCOUNTS, BTN_SETTINGS):
        expect(chat.reply_button(tr("en", label))).to_be_visible()
    answer = menu(chat, BTN_BALANCE, "en")
    shots.take(page, "english")
    if answer == tr("en", BALANCE_SOON):
        NOTES.append("balance (English): not released yet; step skipped")
    else:  # this resident has linked nothing: the picker says so, in English
        assert answer.startswith("No personal account is linked to you yet"), answer


def test_deleting_my_data_takes_the_card_off_the_staff_pane(
    browser: BrowserContext, demo: DemoProcess, shots: Shots
) -> None:
    number = demo_accounts()["no meters"].number  # not on file for this resident's phone
    chat, staff = registered(browser, demo, shots, DEBTOR)
    page = chat.page
    ask_operator(chat, number, "Кузнецова Татьяна", "ул. Благоева, д. 8")
    cards = staff.count()
    before = chat.count()
    chat.inline(LinkRouteCb(route=LinkRoute.SKIP_PHOTO).pack()).click()
    card = staff.wait_new(cards, containing=number)
    chat.wait_new(before)
    shots.take(page, "card")
    menu(chat, BTN_SETTINGS)
    chat.inline(SettingsCb(action=SettingsAction.DELETE).pack()).click()
    confirm = chat.inline(SettingsCb(action=SettingsAction.DELETE_YES).pack())
    confirm.wait_for()  # the settings message is edited into the question, in place
    shots.take(page, "delete-my-data")
    confirm.click()
    expect(card).to_have_count(0)  # deleted in place, without a reload
    expect(chat.root.locator(".start")).to_be_hidden()  # the chat itself stays
    shots.take(page, "card-gone")
