"""Customer satisfaction (CSAT) surveys after a contact ends."""
