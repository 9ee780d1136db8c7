"""Findings as a reviewer reads them first: a bullet list of plain sentences."""

from __future__ import annotations

from IPython.display import Markdown


def findings_markdown(sentences: list[str]) -> Markdown:
    """A bullet list a reviewer reads first."""
    return Markdown("\n".join(f"- {sentence}" for sentence in sentences))
