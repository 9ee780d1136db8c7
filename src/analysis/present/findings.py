"""Findings as a reviewer reads them first, and the one function that makes text from data safe to show.

Every string that comes from data (a segment, a market, an initiative's name, a bad value quoted by validation) may
hold markup. :func:`escape` is the one place that neutralises it for Markdown and HTML alike; every presenter that puts
such text into Markdown or HTML goes through it, and :func:`findings_markdown` escapes every sentence whole, so a
finding is always shown as the plain text it is.
"""

from __future__ import annotations

import html
import re

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

# Characters that Markdown would read as formatting, links, tables or raw HTML once HTML's own are escaped.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]{}|~#!])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def escape(text: object) -> str:
    """``text`` as literal characters in Markdown or HTML: nothing in it can format, link or run.

    Markdown's special characters are backslash-escaped, then HTML's become entities (``<`` → ``&lt;``, quotes too),
    and line breaks become spaces, so a value can neither open a tag nor start a new Markdown block.
    """
    # Markdown first: the entities html.escape writes (``&#x27;``) must not have their ``#`` escaped afterwards.
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))
    return html.escape(escaped, quote=True)


def findings_markdown(sentences: list[str]) -> Markdown:
    """A bullet list a reviewer reads first; each sentence is shown literally (see :func:`escape`)."""
    return Markdown("\n".join(f"- {escape(sentence)}" for sentence in sentences))


def escaped_style(frame: pd.DataFrame, formatter=None, **format_options) -> Styler:
    """``frame.style.format(formatter, ...)`` with every cell, row label and column label escaped for HTML.

    pandas' Styler, unlike ``DataFrame.to_html``, writes cell text as raw HTML by default; every styled table a report
    shows goes through here so a value from data is always shown as text.
    """
    style = frame.style.format(formatter, escape="html", **format_options)
    return style.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
