"""The web apps ``contactd serve`` ships: static pages and their assets (see docs/web.md)."""
