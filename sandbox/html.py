"""Telegram's HTML parse mode, following the rules of tdlib's ``parse_html``.

The error texts and the byte offsets in them match what the real Bot API reports
(they are prefixed with ``Bad Request: can't parse entities: `` by the caller).
"""

from __future__ import annotations

from typing import Any

ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SPACE = frozenset(b" \t\r\n\v\f\x00")
_LT, _GT, _AMP, _SLASH, _EQ = ord("<"), ord(">"), ord("&"), ord("/"), ord("=")
_QUOTES = frozenset((ord("'"), ord('"')))


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(exc)`` is tdlib's message."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _is_alnum(c: int) -> bool:
    return chr(c).isascii() and chr(c).isalnum()


def _decode_entity(data: bytes, pos: int) -> tuple[int, int]:
    """Decode ``&...;`` at ``pos``; returns (code point or 0, position after it)."""
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    end = pos + 1
    res = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end) != 0:
                res = res * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while ord("0") <= at(end) <= ord("9"):
                res = res * 10 + at(end) - ord("0")
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while chr(at(end)).isascii() and chr(at(end)).isalpha() and at(end) != 0:
            end += 1
        name = data[pos + 1 : end]
        named = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
        if name not in named:
            return 0, pos
        res = ord(named[name])
    if at(end) == ord(";"):
        end += 1
    return res, end


_SIMPLE_TYPES = {
    "i": "italic",
    "em": "italic",
    "b": "bold",
    "strong": "bold",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain text, Bot API MessageEntity dicts) or raise HtmlParseError."""
    return _HtmlParser(text).parse()


class _HtmlParser:
    """One pass over the UTF-8 bytes, as tdlib does; ``i`` is the position in ``data``."""

    def __init__(self, text: str):
        self.data = text.encode("utf-8")
        self.n = len(self.data)
        self.i = 0
        self.out = bytearray()
        self.utf16 = 0
        # (tag name, argument, utf-16 offset, byte position in output)
        self.stack: list[tuple[str, str, int, int]] = []
        self.entities: list[dict[str, Any]] = []

    def at(self, k: int) -> int:
        return self.data[k] if k < self.n else 0

    def skip_spaces(self) -> None:
        while self.at(self.i) != 0 and self.at(self.i) in _SPACE:
            self.i += 1

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        while self.i < self.n:
            c = self.data[self.i]
            if c == _AMP and self.char_reference():
                continue
            if c != _LT:
                if (c & 0xC0) != 0x80:
                    self.utf16 += 1 + (c >= 0xF0)
                self.out.append(c)
                self.i += 1
                continue
            begin = self.i
            self.i += 1
            if self.at(self.i) != _SLASH:
                self.start_tag(begin)
            else:
                self.end_tag(begin)
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return self.out.decode("utf-8"), self.entities

    def char_reference(self) -> bool:
        """Decode ``&...;`` into the output; False when it is not one (a plain ``&``)."""
        code, after = _decode_entity(self.data, self.i)
        if not code:
            return False
        if 0xD800 <= code <= 0xDFFF:
            raise HtmlParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        self.out += chr(code).encode("utf-8")
        self.utf16 += 1 + (code > 0xFFFF)
        self.i = after
        return True

    # ----- start tags

    def start_tag(self, begin: int) -> None:
        at = self.at
        while at(self.i) not in _SPACE and at(self.i) != _GT:
            self.i += 1
        if at(self.i) == 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
        tag = self.data[begin + 1 : self.i].decode("utf-8", "replace").lower()
        if tag not in ALLOWED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
        argument = ""
        expandable = False
        while at(self.i) != _GT:
            self.skip_spaces()
            if at(self.i) == _GT:
                break
            attribute = self.attribute(tag, begin)
            if attribute is None:
                expandable = True
                continue
            value = _tag_argument(tag, *attribute)
            if value is not None:
                argument = value
        if tag == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        if tag == "blockquote" and expandable:
            argument = "expandable"
        self.stack.append((tag, argument, self.utf16, len(self.out)))
        self.i += 1  # skip '>'

    def attribute(self, tag: str, begin: int) -> tuple[str, str] | None:
        """(name, value) of the attribute at ``i``; None for a bare ``expandable``."""
        at = self.at
        attr_begin = self.i
        while at(self.i) not in _SPACE and at(self.i) != _EQ and at(self.i) != _GT:
            self.i += 1
        attr_name = self.data[attr_begin : self.i].decode("utf-8", "replace")
        if not attr_name:
            raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        self.skip_spaces()
        if at(self.i) != _EQ:
            if tag == "blockquote" and attr_name.lower() == "expandable":
                return None
            raise HtmlParseError(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {begin}'
            )
        self.i += 1
        self.skip_spaces()
        if at(self.i) == 0:
            raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        value = self.quoted_value() if at(self.i) in _QUOTES else self.name_token()
        if at(self.i) == 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
        return attr_name, value

    def name_token(self) -> str:
        token_begin = self.i
        while _is_alnum(self.at(self.i)) or self.at(self.i) in (ord("."), ord("-")):
            self.i += 1
        value = self.data[token_begin : self.i].decode("utf-8", "replace").lower()
        if self.at(self.i) not in _SPACE and self.at(self.i) != _GT:
            raise HtmlParseError(f"Unexpected end of name token at byte offset {token_begin}")
        return value

    def quoted_value(self) -> str:
        quote = self.at(self.i)
        self.i += 1
        buf = bytearray()
        while self.at(self.i) != quote and self.at(self.i) != 0:
            if self.at(self.i) == _AMP:
                code, after = _decode_entity(self.data, self.i)
                if code:
                    buf += chr(code).encode("utf-8", "surrogatepass")
                    self.i = after
                    continue
            buf.append(self.at(self.i))
            self.i += 1
        if self.at(self.i) == quote:
            self.i += 1
        return buf.decode("utf-8", "replace")

    # ----- end tags

    def end_tag(self, begin: int) -> None:
        at = self.at
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
        while at(self.i) not in _SPACE and at(self.i) != _GT:
            self.i += 1
        end_tag = self.data[begin + 2 : self.i].decode("utf-8", "replace").lower()
        self.skip_spaces()
        if at(self.i) != _GT:
            raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
        self.i += 1
        tag, argument, offset, out_pos = self.stack[-1]
        if end_tag and end_tag != tag:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        self.stack.pop()
        length = self.utf16 - offset
        if length <= 0:
            return
        entity = self.entity(tag, argument, {"offset": offset, "length": length}, out_pos)
        if entity is not None:
            self.entities.append(entity)

    def entity(
        self, tag: str, argument: str, entity: dict[str, Any], out_pos: int
    ) -> dict[str, Any] | None:
        """The MessageEntity a closed tag makes; None when there is none (or it merged)."""
        if tag in _SIMPLE_TYPES:
            entity["type"] = _SIMPLE_TYPES[tag]
        elif tag == "tg-emoji":
            if not argument.isdigit() or int(argument) == 0:
                raise HtmlParseError("Invalid custom emoji identifier specified")
            entity["type"] = "custom_emoji"
            entity["custom_emoji_id"] = argument
        elif tag == "a":
            url = argument or bytes(self.out[out_pos:]).decode("utf-8", "replace")
            if url.startswith("tg://user?id=") and url[13:].isdigit():
                entity["type"] = "text_mention"
                entity["user"] = {"id": int(url[13:]), "is_bot": False, "first_name": ""}
            elif url.strip():
                entity["type"] = "text_link"
                entity["url"] = url.strip()
            else:
                return None
        elif tag in ("pre", "code"):
            return self.pre_or_code(tag, argument, entity)
        elif tag == "blockquote":
            entity["type"] = "expandable_blockquote" if argument else "blockquote"
        return entity

    def pre_or_code(self, tag: str, argument: str, entity: dict[str, Any]) -> dict[str, Any] | None:
        """``<pre><code class="language-x">`` is one pre entity with a language."""
        last = self.entities[-1] if self.entities else None
        same_span = (
            last is not None
            and last["offset"] == entity["offset"]
            and last["length"] == entity["length"]
        )
        if tag == "pre":
            if last is not None and same_span and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
                return None
            entity["type"] = "pre"
            return entity
        if last is not None and same_span and last["type"] == "pre" and argument:
            last["language"] = argument
            return None
        entity["type"] = "code"
        if argument:
            entity["language"] = argument  # dropped at the end unless it becomes a pre
        return entity


def _tag_argument(tag: str, name: str, value: str) -> str | None:
    """What an attribute contributes to its tag (href, language, spoiler class, emoji id)."""
    if tag == "a" and name == "href":
        return value
    if tag == "code" and name == "class" and value.startswith("language-"):
        return value[9:]
    if tag == "span" and name == "class" and value.startswith("tg-"):
        return value[3:]
    if tag == "tg-emoji" and name == "emoji-id":
        return value
    return None


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim leading/trailing whitespace as Telegram does, shifting entity offsets."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    new_len = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(new_len, entity["offset"] + entity["length"] - lead)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result
