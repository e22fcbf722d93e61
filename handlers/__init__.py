"""What the bot does on each command, answer and button, independent of the chat platform."""
