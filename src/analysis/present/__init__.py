"""Presentation: chart theme, formatted tables and findings sentences; no new statistics are computed here."""
