"""Keep passwords out of logs and run records.

A MongoDB URI's password shows up wherever settings are printed (Scrapy logs its
overridden settings at start). ``install_log_redaction()`` makes every log record
replace ``scheme://user:password@`` with ``scheme://user:***@`` before it is formatted.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s'\"]+):(?P<password>[^@/\s'\"]+)@")
_installed = False


def redact(text: str) -> str:
    """The text with the password of every URI in it replaced."""
    return _CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", text)


def redact_uri(uri: str) -> str:
    return redact(uri)


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
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        elif record.msg is not None and "://" in str(record.msg):
            record.msg = redact(str(record.msg))
        if record.args:
            record.args = _clean(record.args)
        return record

    logging.setLogRecordFactory(factory)
