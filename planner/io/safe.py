"""Safe names for files and folders made from user text (village or commune names).

A name read from a user's file must never choose where the planner writes: a commune
called ``../../etc/passwd`` is just a (wrong) name. :func:`slug` folds any text to a
short ASCII file name; :func:`safe_child` joins a name under a base folder and refuses
any result that would leave it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from planner.model.errors import InputError

#: Longest slug returned (characters), short enough for every file system.
MAX_SLUG_LEN = 64

# Letters that Unicode does not decompose into base + accent.
_FOLD = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "þ": "th",
        "Þ": "TH",
        "ı": "i",
    }
)
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


class UnsafePathError(InputError, ValueError):
    """A name would place a file outside the folder meant for it."""


def fold(text: str) -> str:
    """Vietnamese (and other Latin) text without diacritics: ``"Mường Tè"`` -> ``"Muong Te"``."""
    text = unicodedata.normalize("NFKD", str(text).translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c)).translate(_FOLD)


def slug(text: object, *, max_len: int = MAX_SLUG_LEN) -> str:
    """A lower-case ASCII file name for ``text``: ``"Bản Nậm Khao / 2"`` -> ``"ban-nam-khao-2"``.

    Only ``[a-z0-9_-]`` survive, so there is no path separator, no dot and no leading
    dash. Text that folds to nothing (e.g. only Chinese characters or only ``".."``)
    and over-long text get a short hash, so distinct names stay distinct. Never empty.
    """
    raw = "" if text is None else str(text)
    base = re.sub(r"[^a-z0-9_]+", "-", fold(raw).lower()).strip("-_")
    digest = hashlib.sha1(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if not base:
        return f"x-{digest}"
    if base in _WINDOWS_RESERVED:
        base = f"{base}-"
    if len(base) > max_len:
        base = base[: max(1, max_len - 9)].rstrip("-_") + "-" + digest
    return base


def safe_child(base: Path | str, name: str | Path) -> Path:
    """``base / name``, refusing any ``name`` that is absolute or climbs out of ``base``.

    Raises
    ------
    UnsafePathError
        If the resolved path is not inside the resolved ``base`` (``..``, absolute
        paths, drive letters, symlinks that point elsewhere).
    """
    base_path = Path(base).resolve()
    name_str = str(name)
    if not name_str or "\x00" in name_str or Path(name_str).is_absolute() or re.match(r"^[A-Za-z]:", name_str):
        raise UnsafePathError(f"unsafe file name {name_str!r}: must be a relative name inside {base_path}")
    child = (base_path / name_str).resolve()
    if child == base_path or not child.is_relative_to(base_path):
        raise UnsafePathError(f"unsafe file name {name_str!r}: it would leave {base_path}")
    return child
