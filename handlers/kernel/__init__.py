"""The core every feature stands on: the vocabulary, the turn, the router, the outbox,
first contact, the registry of commands and buttons, and how replies look."""
