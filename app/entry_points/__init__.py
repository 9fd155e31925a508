"""Entry points: the phone numbers, mailboxes and chat widgets that lead into queues."""
