"""What both Telegram transports know of an incoming message (aiogram and
python-telegram-bot name its fields as the Bot API does)."""

from __future__ import annotations

# Content the bot cannot use. Such a message is answered (that it cannot be an answer, or
# broadcast), never silently dropped: a user who sent a sticker must not wait for nothing.
UNUSABLE = (
    "sticker", "voice", "audio", "video", "video_note", "animation",
    "location", "contact", "venue", "poll", "dice",
)  # fmt: skip


def unusable(message: object) -> bool:
    return any(getattr(message, field, None) for field in UNUSABLE)
