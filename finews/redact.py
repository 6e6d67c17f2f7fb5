"""Keep passwords out of logs and run records.

A MongoDB URI's password shows up wherever settings are printed (Scrapy logs its
overridden settings at start). ``install_log_redaction()`` makes every log record
replace ``scheme://user:password@`` with ``scheme://user:***@`` before it is formatted.
The user may be empty (``redis://:password@host``, Redis' usual form) and the scheme
missing (pymongo's ``invalid hostname: user:password@host``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

_CREDENTIALS = re.compile(r"(?P<scheme>(?:[a-z][a-z0-9+.-]*://)?)(?P<user>[^:/@\s'\"]*):(?P<password>[^@/\s'\"]+)@")
_installed = False


def redact(text: str) -> str:
    """The text with the password of every URI in it replaced."""
    return _CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", text)


def redact_uri(uri: str) -> str:
    return redact(uri)


def redact_all(value: Any) -> Any:
    """Strings, dicts and lists with every password redacted (run records, spider arguments)."""
    return _clean(value)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clean(v) for v in value)
    return value


def install_log_redaction() -> None:
    """Redact every log record from now on (idempotent; settings.py calls it, before Scrapy logs anything)."""
    global _installed  # noqa: PLW0603 - one process-wide switch
    if _installed:
        return
    _installed = True
    make_record = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        # Formatted here, then redacted whole: arguments that are objects (a Request, an exception) carry
        # URLs too. A record exists only at an enabled level, so this costs only what is logged anyway.
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
