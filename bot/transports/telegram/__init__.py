"""Telegram, through aiogram (``with_aiogram``) or python-telegram-bot (``with_ptb``):
only the chosen library is imported."""
