"""Parse one coordinate written by a person: decimal or degrees-minutes-seconds.

Accepted, for a latitude (``axis="lat"``) or longitude (``axis="lon"``):

- decimal degrees: ``22.3794``, ``-3.5``, and the Vietnamese decimal comma ``22,3794``;
- degrees-minutes-seconds: ``22°22'46"N``, ``22°22'46.5" N``, ``N 22°22'46"``,
  ``22 22 46 N``, ``22°22.767'N`` (decimal minutes), ``102°49′12″E`` (primes), ``22º22'46"``
  (ordinal sign) and ``22d22m46s``; ``S``/``W`` or a leading ``-`` make it negative.

Raises :class:`ValueError` with a message saying what is wrong; the reader turns it
into a :class:`~planner.model.errors.Problem` naming the row and column.
"""

from __future__ import annotations

import math
import re

_DMS = re.compile(
    r"""^\s*(?P<h1>[NSEW])?\s*(?P<sign>[-+])?\s*
        (?P<deg>\d+(?:[.,]\d+)?)\s*(?:°|º|˚|d|deg|\s)\s*
        (?:(?P<min>\d+(?:[.,]\d+)?)\s*(?:'|′|’|‘|m|min|\s)?\s*)?
        (?:(?P<sec>\d+(?:[.,]\d+)?)\s*(?:"|″|”|“|''|′′|s|sec)?\s*)?
        (?P<h2>[NSEW])?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_DECIMAL = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*$")
_HEMISPHERES = {"lat": "NS", "lon": "EW"}


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def parse_coordinate(value: object, axis: str = "lat") -> float:
    """Degrees (float) from a cell value; see the module docstring for accepted forms."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ValueError("missing coordinate")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        out = float(value)
        if not math.isfinite(out):
            raise ValueError("not a finite number")
        return out
    text = str(value).strip()
    if not text:
        raise ValueError("missing coordinate")
    if _DECIMAL.match(text):
        if text.count(",") > 1 or ("," in text and "." in text):
            raise ValueError("not a number (use one decimal point)")
        out = _num(text)
        if not math.isfinite(out):
            raise ValueError("not a finite number")
        return out
    m = _DMS.match(text)
    if not m or m.group("h1") and m.group("h2"):
        raise ValueError("not a decimal degree nor degrees-minutes-seconds like 22°22'46\"N")
    hemi = (m.group("h1") or m.group("h2") or "").upper()
    if hemi and hemi not in _HEMISPHERES[axis]:
        want = " or ".join(_HEMISPHERES[axis])
        raise ValueError(f"hemisphere {hemi} in a {'latitude' if axis == 'lat' else 'longitude'} (expected {want})")
    deg = _num(m.group("deg"))
    minutes = _num(m.group("min")) if m.group("min") else 0.0
    seconds = _num(m.group("sec")) if m.group("sec") else 0.0
    if minutes >= 60 or seconds >= 60:
        raise ValueError("minutes and seconds must be below 60")
    if m.group("sec") and m.group("min") and "." in m.group("min").replace(",", "."):
        raise ValueError("decimal minutes cannot be followed by seconds")
    out = deg + minutes / 60 + seconds / 3600
    if hemi in ("S", "W") or m.group("sign") == "-":
        out = -out
    return out


def format_dms(degrees: float, axis: str = "lat") -> str:
    """``22.3794`` -> ``22°22'45.84"N`` (inverse of :func:`parse_coordinate`, for tests and docs)."""
    hemi = _HEMISPHERES[axis][0 if degrees >= 0 else 1]
    d = abs(degrees)
    deg = int(d)
    minutes = int((d - deg) * 60)
    seconds = round((d - deg - minutes / 60) * 3600, 2)
    if seconds >= 60:
        minutes, seconds = minutes + 1, 0.0
    if minutes >= 60:
        deg, minutes = deg + 1, 0
    return f"{deg}°{minutes}'{seconds:g}\"{hemi}"
