"""Spider arguments (``-a NAME=VALUE``): what each spider accepts, parsed by one set of rules.

A spider lists its arguments as ``arguments = {name: Argument(kind, help)}``;
``parse_arguments`` turns the strings given into values or raises ArgumentProblem
with one line that says what is wrong (an unknown name lists the accepted ones).
Spiders call it in ``__init__``; ``scrapy crawl`` and ``finews crawl`` call it
before anything starts, so a mistake is one line and exit status 2, not a
traceback from inside the engine. Booleans follow Scrapy's ``Settings.getbool``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

from finews.redact import redact


class ArgumentProblem(ValueError):
    """A spider argument or setting that cannot be used; its text is the one line to print."""


class Argument(NamedTuple):
    kind: str  # bool, int, text, url, date, file (an existing file), path (an existing file or folder)
    help: str


def parse_bool(value: Any, name: str = "value") -> bool:
    """Scrapy's rules (``Settings.getbool``): 1/0, true/false, True/False; anything else is refused."""
    try:
        return BaseSettings({name: value}).getbool(name)
    except ValueError:
        raise ArgumentProblem(f"{name}={value!r} is not a boolean (use 1/0, true/false)") from None


def _parse(name: str, kind: str, value: str) -> Any:
    try:
        return _parsed(name, kind, value)
    except ArgumentProblem as exc:
        raise ArgumentProblem(redact(str(exc))) from None


def _parsed(name: str, kind: str, value: str) -> Any:
    if kind == "bool":
        return parse_bool(value, name)
    if kind == "int":
        if not re.fullmatch(r"\d+", value.strip()):
            raise ArgumentProblem(f"-a {name}={value}: not a whole number >= 0")
        return int(value)
    if kind == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ArgumentProblem(f"-a {name}={value}: not an http(s) URL")
        return value
    if kind == "date":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ArgumentProblem(f"-a {name}={value}: not a YYYY-MM-DD date")
        return value
    if kind in ("file", "path"):
        path = Path(value)
        if not path.exists():
            raise ArgumentProblem(f"-a {name}={value}: path not found")
        if kind == "file" and not path.is_file():
            raise ArgumentProblem(f"-a {name}={value}: not a file")
        return value
    return value


def parse_arguments(spider: str, accepted: Mapping[str, Argument], given: Mapping[str, Any]) -> dict[str, Any]:
    """The given arguments as values, or ArgumentProblem (unknown names first, with the accepted ones)."""
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        names = ", ".join(sorted(accepted)) or "none"
        raise ArgumentProblem(f"spider {spider!r} does not take {', '.join(unknown)} (it takes: {names})")
    return {name: _parse(name, accepted[name].kind, str(value)) for name, value in given.items()}
