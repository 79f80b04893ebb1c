"""signer package (see README)."""
