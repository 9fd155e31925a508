"""Calling other systems without being taken down by them: one circuit breaker and one
retry policy for every outbound HTTP client (voice providers, the CRM, IVR lookups)."""
