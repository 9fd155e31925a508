"""Data-subject rights: a customer's data exported as one JSON document, and erased."""
