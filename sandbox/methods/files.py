"""Files: sending documents and photos (upload, ``attach://`` or an earlier file_id) and getFile.
The download itself (``/file/bot{token}/{path}``) is routed by the server."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sandbox.compose import format_caption, new_bot_message, validate_markup
from sandbox.core import ApiError, BotState, Params, api_method, bad
from sandbox.media import image_size
from sandbox.records import FileRecord

if TYPE_CHECKING:
    from sandbox.server import SandboxServer


def _resolve_upload(state: BotState, p: Params, key: str, kind: str) -> tuple[FileRecord, bool]:
    """(file record, is new upload) for a document/photo parameter."""
    value = p.file(key)
    if value is None:
        raise bad(f"there is no {key} in the request")
    if isinstance(value, str):
        record = state.files.get(value)
        if record is None:
            if value.startswith(("http://", "https://")):
                raise bad("failed to get HTTP URL content")
            raise bad("wrong file identifier/HTTP URL specified")
        if record.kind != kind:
            raise bad(f"can't use file of type {record.kind.title()} as {kind.title()}")
        return record, False
    if not value.data:
        raise bad("file must be non-empty")
    if kind == "document" and len(value.data) > 50 * 1024 * 1024:
        raise ApiError(413, "Request Entity Too Large")
    if kind == "photo":
        size = image_size(value.data)
        if size is None:
            raise bad("IMAGE_PROCESS_FAILED")
        return state.add_file("photo", value.data, size=size), True
    return (
        state.add_file(
            "document",
            value.data,
            file_name=value.filename,
            mime_type=value.content_type
            if value.content_type not in (None, "application/octet-stream")
            else None,
        ),
        True,
    )


async def _send_file(st: BotState, p: Params, kind: str) -> Any:
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    record, _ = _resolve_upload(st, p, kind, kind)
    caption, entities, html = format_caption(p)
    markup = validate_markup(p)
    content: dict[str, Any] = {}
    files = [record]
    if kind == "photo":
        content["photo"] = st.photo_sizes(record)
    else:
        content["document"] = record.to_api()
    if caption:
        content["caption"] = caption
    if entities:
        content["caption_entities"] = entities
    msg = new_bot_message(st, chat_id, p, content, html=html, markup=markup, files=files)
    return msg.data


@api_method("sendDocument")
async def send_document(srv: SandboxServer, st: BotState, p: Params) -> Any:
    return await _send_file(st, p, "document")


@api_method("sendPhoto")
async def send_photo(srv: SandboxServer, st: BotState, p: Params) -> Any:
    return await _send_file(st, p, "photo")


@api_method("getFile")
async def get_file(srv: SandboxServer, st: BotState, p: Params) -> Any:
    file_id = p.string("file_id") or ""
    record = st.files.get(file_id)
    if record is None:
        raise bad("invalid file_id")
    if len(record.data) > 20 * 1024 * 1024:
        raise bad("file is too big")
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": len(record.data),
        "file_path": record.file_path,
    }


def _media_item(st: BotState, item: Any, position: int) -> tuple[str, FileRecord, str | None]:
    if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
        raise bad(f"MEDIA_INVALID: item {position} must be a photo or a document here")
    kind = item["type"]
    media = item.get("media")
    if not isinstance(media, str) or not media:
        raise bad(f"MEDIA_EMPTY: item {position} has no media")
    record = st.files.get(media)
    if record is None:
        raise bad("wrong file identifier/HTTP URL specified")
    if record.kind != kind:
        raise bad(f"can't use file of type {record.kind.title()} as {kind.title()}")
    caption = item.get("caption")
    return kind, record, caption if isinstance(caption, str) else None


@api_method("sendMediaGroup")
async def send_media_group(srv: SandboxServer, st: BotState, p: Params) -> Any:
    """An album of 2–10 photos or 2–10 documents (by file_id), as Telegram checks it: the
    kinds are not mixed (documents go with documents only)."""
    chat_id = st.resolve_chat_id(p)
    st.check_can_write(chat_id)
    media = p.json("media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad("MEDIA_GROUP_INVALID: 2 to 10 items are expected")
    items = [_media_item(st, item, i) for i, item in enumerate(media)]
    if len({kind for kind, _, _ in items}) > 1:
        raise bad("MEDIA_GROUP_INVALID: documents can't be mixed with other media types")
    group_id = str(uuid.uuid4().int)[:18]
    out = []
    for kind, record, caption in items:
        content: dict[str, Any] = {"media_group_id": group_id}
        if kind == "photo":
            content["photo"] = st.photo_sizes(record)
        else:
            content["document"] = record.to_api()
        if caption:
            content["caption"] = caption
        out.append(new_bot_message(st, chat_id, p, content, files=[record]).data)
    return out
