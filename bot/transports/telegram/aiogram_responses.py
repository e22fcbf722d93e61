"""Keeps aiogram's response models alive, which makes each Bot API call far cheaper.

aiogram validates every Bot API answer as ``Response[method.__returning__]``. pydantic
keeps those parametrised classes only in a weak cache, so a garbage-collection pass drops
them and the next answer builds the class again: ~4 ms of CPU, about 44% of the bot's CPU
under load in bench/interview_load. Holding a reference to the classes of the methods
the bot calls keeps them in that cache.
"""

from __future__ import annotations

from typing import Any

from aiogram import methods
from aiogram.methods.base import Response

USED = (
    methods.GetUpdates,
    methods.GetMe,
    methods.DeleteWebhook,
    methods.SetMyCommands,
    methods.SendMessage,
    methods.SendPhoto,
    methods.SendDocument,
    methods.EditMessageText,
    methods.AnswerCallbackQuery,
)

_held: list[Any] = []


def keep_response_models() -> None:
    if not _held:
        _held.extend(Response[method.__returning__] for method in USED)  # type: ignore[name-defined]
