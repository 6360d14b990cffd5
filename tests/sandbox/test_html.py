"""The HTML parse mode follows tdlib: plain text, UTF-16 entity offsets, exact error texts."""

import pytest

from sandbox.html import HtmlParseError, parse_html, strip_text


def test_plain_text_and_entities() -> None:
    text, entities = parse_html("<b>bold <i>both</i></b> <code>x</code>")
    assert text == "bold both x"
    assert entities == [
        {"offset": 0, "length": 9, "type": "bold"},
        {"offset": 5, "length": 4, "type": "italic"},
        {"offset": 10, "length": 1, "type": "code"},
    ]


def test_offsets_are_utf16_code_units() -> None:
    text, entities = parse_html("😀 <u>ёж</u>")
    assert text == "😀 ёж"
    assert entities == [{"offset": 3, "length": 2, "type": "underline"}]


def test_html_entities_are_decoded() -> None:
    text, _ = parse_html("&lt;a&gt; &amp; &quot;q&quot; &#1046; &#x41; &nbsp; & alone")
    assert text == '<a> & "q" Ж A &nbsp; & alone'


def test_links_pre_spoiler_and_mentions() -> None:
    text, entities = parse_html(
        '<a href="https://x.org/?a=1&amp;b=2">x</a> <pre><code class="language-py">1</code></pre>'
        ' <tg-spoiler>s</tg-spoiler> <a href="tg://user?id=42">u</a>'
        " <blockquote expandable>q</blockquote>"
    )
    assert text == "x 1 s u q"
    assert entities[0] == {
        "offset": 0,
        "length": 1,
        "type": "text_link",
        "url": "https://x.org/?a=1&b=2",
    }
    assert entities[1] == {"offset": 2, "length": 1, "type": "pre", "language": "py"}
    assert entities[2]["type"] == "spoiler"
    assert entities[3]["type"] == "text_mention" and entities[3]["user"]["id"] == 42
    assert entities[4]["type"] == "expandable_blockquote"


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("ж<b>x</i>", 'Unmatched end tag at byte offset 6, expected "</b>", found "</i>"'),
    ],
)
def test_errors_match_telegram(html: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as exc:
        parse_html(html)
    assert str(exc.value) == error


def test_strip_shifts_entities() -> None:
    text, entities = strip_text("\n  hi there \n", [{"offset": 6, "length": 7, "type": "bold"}])
    assert text == "hi there"
    assert entities == [{"offset": 3, "length": 5, "type": "bold"}]
