"""What a notebook's parameters accept, read from its parameters cell, so values are checked before any kernel.

Each line of a notebook's ``parameters`` cell declares one parameter with a type annotation, its default and a
comment: what the parameter means, then, after a ``;``, any number of rules the pipeline reads::

    freq: str = "month"  # KPI period; one of: week, month, quarter
    window: str = "1D"  # conversion window; pattern: ^[1-9][0-9]*(s|min|h|D)$
    min_coverage: float = 0.8  # share of the weight a market's data must cover; range: 0..1
    breakdowns: list = ["segment", "device"]  # columns to break down by; each one of: segment, device, channel

The rules:

``one of: a, b, c``
    the value is one of the comma-separated values (numbers compare as numbers).
``pattern: <regex>``
    the value is text matched in full by the regular expression; the regex runs to the end of the comment, so it
    may contain ``;`` and must be the last rule. ``(?i)`` makes it ignore case.
``range: low..high``
    the value is a number from ``low`` to ``high`` inclusive; either end may be left open (``1..``, ``..100``).
``each <rule>``
    the value is a list and every item follows the rule (``each one of: …``, ``each pattern: …``,
    ``each range: …``).

The annotation (``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``, ``tuple``) is checked too; an ``int``
is a valid ``float``, a ``bool`` is not an ``int``. Papermill's ``inspect_notebook`` (and ``papermill
--help-notebook``) reads the same annotations and comments. A parameter without annotation or rules accepts any
value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papermill.inspection import inspect_notebook

TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
    "tuple": (tuple, list),  # YAML has no tuples: a list is how a configuration writes one
}
RULE = re.compile(r"^\s*(?P<each>each\s+)?(?P<kind>one of|pattern|range)\s*:\s*(?P<argument>.*?)\s*$", re.DOTALL)


class RuleSyntaxError(ValueError):
    """A rule in a parameters cell's comment that cannot be read (a bad regex, a range that is not numbers)."""


@dataclass(frozen=True)
class Rule:
    """One rule from a parameter's comment: ``kind`` is ``"one of"``, ``"pattern"`` or ``"range"``."""

    kind: str
    argument: str
    each: bool = False

    def __post_init__(self) -> None:
        if self.kind == "pattern":
            try:
                re.compile(self.argument)
            except re.error as error:
                raise RuleSyntaxError(f"pattern: {self.argument!r} is not a regular expression ({error})") from None
        elif self.kind == "range":
            self._bounds()
        elif not self._choices():
            raise RuleSyntaxError("one of: lists no values")

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` follows the rule (every item of it, for an ``each`` rule)."""
        if self.each:
            return isinstance(value, list | tuple) and all(self._accepts_one(item) for item in value)
        return self._accepts_one(value)

    def describe(self) -> str:
        """The rule as a reader sees it in a message: ``one of: week, month, quarter``."""
        return f"{'each ' if self.each else ''}{self.kind}: {self.argument}"

    def _accepts_one(self, value: Any) -> bool:
        if self.kind == "pattern":
            return isinstance(value, str) and re.fullmatch(self.argument, value) is not None
        if self.kind == "range":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            low, high = self._bounds()
            return (low is None or value >= low) and (high is None or value <= high)
        choices = self._choices()
        if isinstance(value, bool):
            return False
        if isinstance(value, int | float):
            return any(_number(choice) == value for choice in choices)
        return value in choices

    def _choices(self) -> list[str]:
        return [choice.strip() for choice in self.argument.split(",") if choice.strip()]

    def _bounds(self) -> tuple[float | None, float | None]:
        low, separator, high = self.argument.partition("..")
        try:
            if not separator:
                raise ValueError
            return (float(low) if low.strip() else None, float(high) if high.strip() else None)
        except ValueError:
            raise RuleSyntaxError(f"range: {self.argument!r} is not 'low..high' (e.g. 0..1, 1..)") from None


@dataclass(frozen=True)
class NotebookParameter:
    """A parameter declared in a notebook's parameters cell.

    Attributes
    ----------
    name
        the variable name.
    type_name
        the annotation (``"str"``, ``"int"`` …), None when there is none.
    default
        the default as written in the cell.
    help
        the comment: meaning, then rules.
    rules
        the rules read from the comment.
    """

    name: str
    type_name: str | None
    default: str
    help: str
    rules: tuple[Rule, ...] = ()

    def problem(self, value: Any) -> str | None:
        """None when ``value`` is valid; else what would be valid (``"a str; one of: week, month, quarter"``)."""
        types = TYPES.get(self.type_name or "")
        wrong_type = types is not None and (
            not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
        )
        if wrong_type or not all(rule.accepts(value) for rule in self.rules):
            return self.valid()
        return None

    def valid(self) -> str:
        """What the parameter accepts: its type and rules, ``; ``-separated."""
        parts = [f"a {self.type_name}"] if self.type_name in TYPES else []
        return "; ".join(parts + [rule.describe() for rule in self.rules]) or "any value"


def parse_rules(comment: str) -> tuple[Rule, ...]:
    """The rules in a parameter's comment (see the module docstring); prose segments are skipped.

    Raises
    ------
    RuleSyntaxError
        if a rule is malformed.
    """
    rules = []
    segments = comment.split(";")
    for index, segment in enumerate(segments):
        match = RULE.match(segment)
        if not match:
            continue
        kind, each = match["kind"], bool(match["each"])
        if kind == "pattern":  # runs to the end of the comment, ';' included
            argument = ";".join([match["argument"], *segments[index + 1 :]]).strip()
            rules.append(Rule(kind, argument, each))
            break
        rules.append(Rule(kind, match["argument"], each))
    return tuple(rules)


def notebook_parameters(path: Path) -> dict[str, NotebookParameter]:
    """The parameters declared in the parameters cell of the notebook at ``path``, in their order.

    Raises
    ------
    RuleSyntaxError
        if a comment holds a malformed rule (the message names the parameter).
    """
    declared = {}
    for name, facts in inspect_notebook(str(path)).items():
        comment = facts.get("help") or ""
        type_name = facts.get("inferred_type_name")
        try:
            rules = parse_rules(comment)
        except RuleSyntaxError as error:
            raise RuleSyntaxError(f"parameter {name}: {error}") from None
        declared[name] = NotebookParameter(
            name=name,
            type_name=None if type_name in (None, "None") else type_name,
            default=facts.get("default") or "",
            help=comment,
            rules=rules,
        )
    return declared


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
