"""Cases: complaints, requests and inquiries that outlive a contact, with SLAs counted in
business hours (docs/cases.md)."""
