"""Metrics: pure functions from Ibis tables or pandas frames to small tidy pandas frames, one module per subject."""
