"""Calendar rules of a village or site: daily time windows, per weekday.

A time-window text is one or more parts separated by ``;``; each part is an optional
weekday set and one or more intervals separated by ``,``, e.g. ``"14:00-16:00"``,
``"Mon-Fri 16:30-19:30; Sat 07:00-11:00"``, ``"Sat,Sun 08:00-17:00"`` or a school's
``"Mon-Fri 07:30-11:00, 13:30-16:30"``. A part without weekdays applies to every day. Times
are minutes after midnight internally; a visit must start and end inside one interval.

A school term text is one or more date ranges ``YYYY-MM-DD..YYYY-MM-DD`` separated by ``,``
or ``;``, e.g. ``"2026-09-05..2027-01-16, 2027-01-18..2027-05-25"`` (both ends included).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from lunardate import LunarDate

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ALL_DAYS = frozenset(range(7))
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_INTERVAL = r"(?:[01]?\d|2[0-3]):[0-5]\d\s*-\s*(?:[01]?\d|2[0-4]):[0-5]\d"
_PART = re.compile(
    rf"^\s*(?P<days>{_DAY}(?:\s*-\s*{_DAY})?(?:\s*,\s*{_DAY}(?:\s*-\s*{_DAY})?)*)?\s*"
    rf"(?P<intervals>{_INTERVAL}(?:\s*,\s*{_INTERVAL})*)\s*$",
    re.IGNORECASE,
)
_HM = re.compile(r"(?P<h1>\d+):(?P<m1>\d+)\s*-\s*(?P<h2>\d+):(?P<m2>\d+)")


@dataclass(frozen=True)
class DailyWindow:
    """On the given weekdays (0 = Monday), a visit may take place in [start_min, end_min]."""

    weekdays: frozenset[int]
    start_min: int
    end_min: int


def _days(text: str) -> frozenset[int]:
    out: set[int] = set()
    names = [w.lower() for w in WEEKDAYS]
    for piece in text.split(","):
        ends = [p.strip().lower() for p in piece.split("-")]
        a = names.index(ends[0])
        b = names.index(ends[-1])
        out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(out)


@functools.lru_cache(maxsize=1024)
def parse_time_windows(text: object) -> tuple[DailyWindow, ...]:
    """Parse a time-window text; ``()`` for an empty value.

    Raises
    ------
    ValueError
        Naming the part that is not ``[Days] HH:MM-HH:MM`` or whose end is not after its start.
    """
    if text is None or (isinstance(text, float) and text != text) or str(text).strip() == "":
        return ()
    out = []
    for part in str(text).split(";"):
        if not part.strip():
            continue
        m = _PART.match(part)
        if not m:
            raise ValueError(
                f"'{part.strip()}' is not a time window [Days] HH:MM-HH:MM[, HH:MM-HH:MM] (e.g. 'Mon-Fri 14:00-16:00')"
            )
        days = _days(m["days"]) if m["days"] else ALL_DAYS
        for iv in _HM.finditer(m["intervals"]):
            start = int(iv["h1"]) * 60 + int(iv["m1"])
            end = int(iv["h2"]) * 60 + int(iv["m2"])
            if end <= start:
                raise ValueError(f"'{part.strip()}': the end must be after the start")
            out.append(DailyWindow(days, start, end))
    return tuple(out)


def windows_on(windows: tuple[DailyWindow, ...], weekday: int) -> tuple[tuple[int, int], ...]:
    """Intervals (minutes) open on a weekday; ``None`` windows (no rule) are handled by the caller."""
    return tuple(sorted((w.start_min, w.end_min) for w in windows if weekday in w.weekdays))


_RANGE = re.compile(r"^\s*(?P<a>\d{4}-\d{2}-\d{2})\s*\.\.\s*(?P<b>\d{4}-\d{2}-\d{2})\s*$")

#: A school term: date ranges, both ends included.
Term = tuple[tuple[dt.date, dt.date], ...]


@functools.lru_cache(maxsize=256)
def parse_term(text: object) -> Term:
    """Parse a school term text into sorted date ranges; ``()`` for an empty value.

    Raises
    ------
    ValueError
        Naming every range that is not ``YYYY-MM-DD..YYYY-MM-DD``, is not a calendar date,
        ends before it starts, or overlaps another range (all in one message).
    """
    if text is None or (isinstance(text, float) and text != text) or str(text).strip() == "":
        return ()
    out, bad = [], []
    for part in re.split(r"[,;]", str(text)):
        if not part.strip():
            continue
        m = _RANGE.match(part)
        if not m:
            bad.append(f"'{part.strip()}' is not a date range YYYY-MM-DD..YYYY-MM-DD (e.g. '2026-09-05..2027-01-16')")
            continue
        try:
            a, b = dt.date.fromisoformat(m["a"]), dt.date.fromisoformat(m["b"])
        except ValueError as exc:
            bad.append(f"'{part.strip()}': {exc}")
            continue
        if b < a:
            bad.append(f"'{part.strip()}': the range ends before it starts")
            continue
        out.append((a, b))
    out.sort()
    bad += [f"'{a1}..{b1}' and '{a2}..{b2}' overlap" for (a1, b1), (a2, b2) in zip(out, out[1:]) if a2 <= b1]
    if bad:
        raise ValueError("; ".join(bad))
    return tuple(out)


def in_term(term: Term, date: dt.date) -> bool:
    """Whether ``date`` falls inside one of the term's ranges (an empty term: no rule, always)."""
    return not term or any(a <= date <= b for a, b in term)


@dataclass(frozen=True)
class MarketDays:
    """When a village's market (chợ phiên) is held: weekdays, or days of the lunar month."""

    weekdays: frozenset[int] = frozenset()
    lunar_days: frozenset[int] = frozenset()

    def on(self, date: dt.date) -> bool:
        """Whether ``date`` is a market day. Lunar days use the Chinese calendar (UTC+8), which
        matches Vietnam's (UTC+7) except on rare new moons near midnight."""
        if date.weekday() in self.weekdays:
            return True
        return (
            bool(self.lunar_days) and LunarDate.from_solar_date(date.year, date.month, date.day).day in self.lunar_days
        )


_LUNAR = re.compile(r"^\s*(?:lunar|âm lịch|am lich)\s*:?\s*(?P<days>\d{1,2}(?:\s*,\s*\d{1,2})*)\s*$", re.IGNORECASE)


def parse_market_days(text: object) -> MarketDays | None:
    """``"Sun"``, ``"Tue, Sat"`` or ``"lunar 5, 15, 25"`` (days of the lunar month); None when empty.

    Raises
    ------
    ValueError
        Naming the text when it is neither form, or a lunar day outside 1-30.
    """
    if text is None or (isinstance(text, float) and text != text) or str(text).strip() == "":
        return None
    m = _LUNAR.match(str(text))
    if m:
        days = frozenset(int(x) for x in m["days"].split(","))
        if not all(1 <= d <= 30 for d in days):
            raise ValueError(f"'{text}': lunar days must be from 1 to 30")
        return MarketDays(lunar_days=days)
    try:
        return MarketDays(weekdays=_days(str(text).replace(" ", "")))
    except ValueError:
        raise ValueError(f"'{text}' is not market days: weekdays like 'Sun' or 'Tue,Sat', or 'lunar 5,15,25'") from None
