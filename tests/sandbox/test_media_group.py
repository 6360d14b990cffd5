"""sendMediaGroup in the sandbox: albums of documents or of photos, by file_id, checked as
Telegram checks them (2–10 items, documents not mixed with photos)."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InputMediaDocument, InputMediaPhoto

from sandbox import Sandbox, make_png

pytestmark = pytest.mark.timeout(30)


async def test_an_album_of_documents_and_one_of_photos(sb: Sandbox, bot: Bot) -> None:
    alice = sb.user()
    await alice.send("/start")
    card = await bot.send_message(alice.id, "card")
    pdfs = [
        (await bot.send_document(alice.id, BufferedInputFile(b"%PDF " + bytes([n]), f"p{n}.pdf")))
        for n in range(2)
    ]
    photo = await bot.send_photo(alice.id, BufferedInputFile(make_png(8, 8), "x.png"))
    ids = [m.document.file_id for m in pdfs if m.document]
    sent = await bot.send_media_group(
        alice.id, [InputMediaDocument(media=i) for i in ids], reply_to_message_id=card.message_id
    )
    assert [m.document.file_id for m in sent if m.document] == ids
    assert len({m.media_group_id for m in sent}) == 1 and sent[0].media_group_id
    assert all(
        m.reply_to_message and m.reply_to_message.message_id == card.message_id for m in sent
    )
    assert photo.photo is not None
    big = photo.photo[-1].file_id
    photos = await bot.send_media_group(alice.id, [InputMediaPhoto(media=big)] * 3)
    assert len(photos) == 3 and all(m.photo for m in photos)
    with pytest.raises(TelegramBadRequest, match="can't be mixed"):
        await bot.send_media_group(
            alice.id, [InputMediaDocument(media=ids[0]), InputMediaPhoto(media=big)]
        )
    with pytest.raises(TelegramBadRequest, match="2 to 10"):
        await bot.send_media_group(alice.id, [InputMediaPhoto(media=big)] * 11)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_media_group(alice.id, [InputMediaPhoto(media="nope")] * 2)
