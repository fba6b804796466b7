"""The business rules and the use cases that change state (the one write path)."""
