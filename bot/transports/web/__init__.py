"""The web chat: the conversation as HTML pages, and the server that also serves the office."""
