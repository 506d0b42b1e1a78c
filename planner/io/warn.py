"""Warning classes of the readers and the validator.

Each warning names the fallback taken and how to silence it; in tests they are errors
(``filterwarnings = error``), so an unexpected one fails.
"""

from __future__ import annotations

from planner.model.errors import Problem


class InputWarning(UserWarning):
    """Something odd in the input that the planner worked around."""


class EncodingFallbackWarning(InputWarning):
    """A text file was not UTF-8; it was read as cp1258 or latin-1."""


class AssumedCRSWarning(InputWarning):
    """A geodata file had no CRS; WGS84 (EPSG:4326) was assumed."""


class OffRoadWalkWarning(InputWarning):
    """A village is far from every road; it is connected by an off-road walk."""


class DisconnectedRoadWarning(InputWarning):
    """A road piece is not connected to the depot's network; no village needs it."""


class FilledValueWarning(InputWarning):
    """A missing optional value was filled with a documented default."""


def category(problem: Problem) -> type[InputWarning]:
    """The warning class for a warning-severity :class:`~planner.model.errors.Problem`."""
    if problem.field == "encoding":
        return EncodingFallbackWarning
    if problem.field == "crs":
        return AssumedCRSWarning
    if "off-road walk" in problem.rule:
        return OffRoadWalkWarning
    if "not connected to the depot" in problem.rule:
        return DisconnectedRoadWarning
    if "filled with" in problem.rule:
        return FilledValueWarning
    return InputWarning


def emit(problems: list[Problem], stacklevel: int = 3) -> None:
    """``warnings.warn`` every warning-severity problem, with its class."""
    import warnings

    for p in problems:
        if p.severity == "warning":
            warnings.warn(str(p), category(p), stacklevel=stacklevel)
