"""Errors the CLI turns into exit codes.

- :class:`InputError` (exit 2): the user's data or configuration is wrong.
- :class:`NoPlanError` (exit 3): the data is valid but no plan can be made.
- anything else (exit 1): the program failed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, which field, what value, which rule."""

    file: str
    feature: str  # id and/or row, e.g. "id=03451-01 (row 3)"
    field: str
    value: object
    rule: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        value = repr(self.value)
        if len(value) > 80:
            value = value[:77] + "..."
        return f"{self.file}: {self.feature}: field '{self.field}' = {value}: {self.rule}"


class PlannerError(Exception):
    exit_code = 1


class InputError(PlannerError):
    """Bad input; lists every problem at once."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            self.problems: list[Problem] = []
            msg = problems
        else:
            self.problems = list(problems)
            n = len(self.problems)
            msg = f"{n} problem{'s' if n != 1 else ''} in the input:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(msg)


class NoPlanError(PlannerError):
    """Valid input, but nothing can be planned (quotes the numbers)."""

    exit_code = 3


class OutputExistsError(PlannerError):
    """The run folder exists and --force was not given."""

    exit_code = 4
