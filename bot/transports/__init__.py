"""The channels: each turns its platform's messages into ``Event``s and ``Reply``s back
into its platform's messages. They never import each other (pyproject's contracts)."""
