"""Builders and oracles shared by the tests (no test module imports another)."""
