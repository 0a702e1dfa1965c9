"""Dates given to the jobs: exactly ``YYYY-MM-DD`` (a real calendar date), judged against the real clock."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from .errors import OffloadError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def today_utc() -> date:
    return datetime.now(UTC).date()


def parse_date(text: str | None) -> date | None:
    """The date of an exact ``YYYY-MM-DD`` text; ``None`` for no text or anything else."""
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def date_argument(text: str | None, argument: str) -> date | None:
    """``None`` when not given; a user error naming the argument when not an exact calendar date."""
    if text is None:
        return None
    parsed = parse_date(text)
    if parsed is None:
        raise OffloadError(
            "bad_argument", f"--{argument} must be a calendar date YYYY-MM-DD, not {text!r}", argument=argument
        )
    return parsed
