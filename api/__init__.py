"""api package (see README)."""
