"""What leaves the bot when nobody is waiting for it: the outbox's broadcasts and notices,
paced, by every channel, and by e-mail."""
