"""Messages rendered as a Telegram client shows them: entities, keyboards, files, replies."""

from typing import Any

from sandbox.html import parse_html
from sandbox.records import StoredMessage
from sandbox.render import (
    Viewer,
    current_reply_keyboard,
    entities_to_html,
    message_html,
    reply_keyboard_html,
)

BOT = {"id": 1, "is_bot": True, "first_name": "Kabinet"}
ANNA = {"id": 7, "is_bot": False, "first_name": "Анна", "last_name": "Иванова"}


def stored(data: dict[str, Any], *, from_bot: bool = True, **extra: Any) -> StoredMessage:
    base = {
        "message_id": 10,
        "chat": {"id": 7},
        "date": 1_700_000_000,
        "from": BOT if from_bot else ANNA,
    }
    return StoredMessage(7, 10, {**base, **data}, from_bot=from_bot, **extra)


def roundtrip(html: str) -> str:
    """Telegram HTML → (text, entities) as the sandbox stores it → HTML as the page shows it."""
    return entities_to_html(*parse_html(html))


def test_formatting_comes_back_as_html() -> None:
    assert roundtrip("<b>bold <i>both</i></b> <u>u</u> <s>s</s>") == (
        "<b>bold <i>both</i></b> <u>u</u> <s>s</s>"
    )
    assert roundtrip("<code>x &lt; y</code>") == "<code>x &lt; y</code>"
    assert roundtrip('<pre><code class="language-python">print(1)</code></pre>') == (
        '<pre><code class="language-python">print(1)</code></pre>'
    )
    assert roundtrip("<blockquote>quoted</blockquote>") == (
        '<blockquote class="blockquote">quoted</blockquote>'
    )
    assert roundtrip("<tg-spoiler>secret</tg-spoiler>") == (
        '<span class="spoiler" title="spoiler">secret</span>'
    )


def test_offsets_count_utf16_units() -> None:
    text, entities = parse_html("👍🏠 <b>Баланс</b> 💳")
    assert entities_to_html(text, entities) == "👍🏠 <b>Баланс</b> 💳"


def test_overlapping_entities_are_split_and_reopened() -> None:
    entities = [
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "italic", "offset": 2, "length": 5},
    ]
    assert entities_to_html("abcdefgh", entities) == "<b>ab<i>cde</i></b><i>fg</i>h"


def test_text_is_escaped_and_only_safe_links_are_links() -> None:
    text = "<script>alert(1)</script> click"
    links = [
        {"type": "text_link", "offset": 26, "length": 5, "url": "javascript:alert(1)"},
    ]
    html = entities_to_html(text, links)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in html
    good = entities_to_html(
        "policy", [{"type": "text_link", "offset": 0, "length": 6, "url": "https://uk.ru/p"}]
    )
    assert good == '<a href="https://uk.ru/p" target="_blank" rel="noopener noreferrer">policy</a>'


def test_commands_and_urls_in_plain_text_are_clickable_but_not_in_code() -> None:
    html = entities_to_html("Send /start or see https://uk.ru/help.", [])
    assert '<a href="#" class="cmd" data-command="/start">/start</a>' in html
    assert '<a href="https://uk.ru/help"' in html and html.endswith("</a>.")
    assert entities_to_html("/start", [{"type": "code", "offset": 0, "length": 6}]) == (
        "<code>/start</code>"
    )
    assert "cmd" not in entities_to_html("and/or 1/2 </b> a.b/c x-/y", [])


def test_a_bot_message_with_an_inline_keyboard() -> None:
    markup = {
        "inline_keyboard": [
            [
                {"text": "✅ Agree", "callback_data": "consent:agree"},
                {"text": "Site", "url": "https://uk.ru"},
            ],
        ]
    }
    html = message_html(stored({"text": "Agree?", "reply_markup": markup}), Viewer(7))
    assert '<div class="msg bot" data-mid="10"' in html
    assert 'data-cb="consent:agree" data-row="0" data-col="0">✅ Agree</button>' in html
    assert '<a class="ikb-btn url" href="https://uk.ru"' in html
    assert 'class="sender"' not in html  # a private chat shows no names


def test_own_messages_sit_on_the_right_and_groups_show_names_and_topics() -> None:
    own = message_html(stored({"text": "hi"}, from_bot=False), Viewer(7))
    assert 'class="msg own"' in own
    in_group = message_html(
        stored({"text": "hi"}, from_bot=False), Viewer(99, group=True, topic="Заявки")
    )
    assert 'class="msg other"' in in_group
    assert '<div class="sender">Анна Иванова</div>' in in_group and "# Заявки" in in_group


def test_photos_documents_contacts_and_replies() -> None:
    photo = [
        {"file_id": "small", "width": 90, "height": 60},
        {"file_id": "big", "width": 900, "height": 600},
    ]
    html = message_html(stored({"photo": photo, "caption": "receipt"}), Viewer(7))
    assert '<img src="/_control/files/big"' in html and "receipt" in html
    document = {"file_id": "doc1", "file_name": "квитанция.pdf", "file_size": 20480}
    html = message_html(stored({"document": document}), Viewer(7))
    assert 'href="/_control/files/doc1" download="квитанция.pdf"' in html and "20 KB" in html
    contact = {"phone_number": "+79161234567", "first_name": "Анна", "user_id": 7}
    assert "+79161234567" in message_html(stored({"contact": contact}, from_bot=False), Viewer(7))
    reply = {"message_id": 4, "from": ANNA, "text": "my question"}
    html = message_html(stored({"text": "answer", "reply_to_message": reply}), Viewer(7))
    assert '<div class="quote" data-goto="4"><b>Анна Иванова</b><span>my question</span>' in html
    topic_start = {"message_id": 3, "from": BOT, "forum_topic_created": {"name": "T"}}
    assert "quote" not in message_html(
        stored({"text": "in a topic", "reply_to_message": topic_start}), Viewer(7)
    )


def test_edited_deleted_force_reply_and_service_messages() -> None:
    edited = message_html(stored({"text": "v2", "edit_date": 1_700_000_100}), Viewer(7))
    assert 'class="edited"' in edited
    gone = stored({"text": "bye"})
    gone.deleted = True
    assert message_html(gone, Viewer(7)) == ""
    forced = stored({"text": "Reason?"}, markup={"force_reply": True})
    assert 'data-force-reply="1"' in message_html(forced, Viewer(7))
    service = stored({"forum_topic_created": {"name": "<Заявки>"}}, service=True)
    assert "«&lt;Заявки&gt;»" in message_html(service, Viewer(7))


def test_the_reply_keyboard_is_the_latest_one_set_or_removed() -> None:
    keyboard = {
        "keyboard": [[{"text": "📱 Share my phone", "request_contact": True}], ["✖️ Cancel"]]
    }
    first = stored({"text": "phone?"}, markup=keyboard)
    assert current_reply_keyboard([first]) == keyboard
    html = reply_keyboard_html(keyboard)
    assert (
        '<button type="button" class="rkb-btn" data-contact="1" data-text="📱 Share my phone">'
        in html
    )
    assert 'data-text="✖️ Cancel">✖️ Cancel</button>' in html
    removed = stored({"text": "thanks"}, markup={"remove_keyboard": True})
    plain = stored({"text": "no markup"})
    assert current_reply_keyboard([first, removed, plain]) is None
    assert current_reply_keyboard([first, plain]) == keyboard
    assert reply_keyboard_html(None) == ""
    first.markup = {"inline_keyboard": [[{"text": "x", "callback_data": "x"}]]}  # an edit
    first.deleted = True
    assert current_reply_keyboard([first, plain]) == keyboard  # still in force, as in Telegram
