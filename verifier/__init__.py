"""verifier package (see README)."""
