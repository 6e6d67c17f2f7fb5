"""What the finews commands share: the argument parser, settings, the archive opened for reading."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NoReturn

from pymongo.errors import PyMongoError
from scrapy.utils.project import get_project_settings

from finews.arguments import ArgumentProblem
from finews.dates import CST, parse_post_date
from finews.defaults import check
from finews.redact import redact
from finews.storage.archive import Archive
from finews.storage.embedded import EmbeddedServerError


class StoreDown(Exception):
    """The archive does not answer: one line, exit status 4."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ArgumentProblem(f"{self.prog}: {message}")


def pairs(values: list[str], flag: str) -> dict[str, str]:
    found = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name:
            raise ArgumentProblem(f"finews crawl: {flag} takes NAME=VALUE, not {redact(value)!r}")
        found[name] = setting
    return found


def settings(overrides: list[str] | None = None) -> Any:
    """The project's settings with ``-s`` overrides, checked (ArgumentProblem names the first unusable one)."""
    found = get_project_settings()
    found.setdict(pairs(overrides or [], "-s"), priority="cmdline")
    check(found)
    return found


@contextmanager
def archive(command: str) -> Iterator[Archive]:
    """The archive, answering: else StoreDown with one line (a reading command has no journal to fall back on)."""
    store = Archive.from_settings(settings())
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        store.open(indexes=False)
        store.db.command("ping")
    except (PyMongoError, EmbeddedServerError) as exc:
        store.close()
        where = "the embedded store" if store.embedded is not None else f"MongoDB at {redact(store.uri)}"
        why = type(exc).__name__ if isinstance(exc, PyMongoError) else redact(str(exc))
        raise StoreDown(f"finews {command}: {where} does not answer ({why})") from None
    try:
        yield store
    except PyMongoError as exc:
        raise StoreDown(f"finews {command}: the archive stopped answering ({type(exc).__name__})") from None
    finally:
        store.close()


def iso(value: Any) -> str:
    return value.astimezone(CST).isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)


def day(text: str) -> datetime:
    """A ``YYYY-MM-DD`` option (UTC+8), for argparse."""
    moment = parse_post_date(text)
    if moment is None or len(text.strip()) != 10:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}")
    return moment
