"""What the tests and the benchmarks share: the fake Telegram Bot API server, the bot as a
process, drivers of a chat (in process, over Telegram, through web pages) and the answers
of the example enterprise. Both tests/ and bench/ import from here; neither imports the
other."""
