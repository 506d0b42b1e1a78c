"""The workspace: a database that remembers plans, pins, closures, what happened, and who changed what.

One SQLite file by default (``workspace/planner.db``; WAL, foreign keys on), or PostgreSQL
through the same code (``PLANNER_DB=postgresql+psycopg://…``). The schema is kept by Alembic
migrations in ``planner/workspace/migrations`` (run on open; an SQLite file is backed up first).
Run folders stay artefacts; the database is the record.

Modules, in the order of the practice they serve:

- :mod:`~planner.workspace.store` open / create / migrate; one transaction per command; errors (exit 5)
- :mod:`~planner.workspace.db` the tables (SQLAlchemy 2 typed ORM)
- :mod:`~planner.workspace.service` register and publish runs, pins, record visit sheets
- :mod:`~planner.workspace.sheet` the fillable visit sheet (xlsx with validation; csv)
- :mod:`~planner.workspace.edit` hand edits refereed by the checker
- :mod:`~planner.workspace.replan` re-plan after closures or a breakdown, with a diff
- :mod:`~planner.workspace.cycle` the next cycle: carry-over priorities
- :mod:`~planner.workspace.report` the directive's report from the visit log
"""

from __future__ import annotations

from planner.workspace.cycle import carry_over, cycle_history, next_cycle_start, with_priority
from planner.workspace.edit import EditRefused, EditRequest, edit_run
from planner.workspace.replan import ReplanRequest, plan_diff, replan
from planner.workspace.report import report_data, write_report
from planner.workspace.service import add_pin, pins_between, publish, record, register_run, remove_pin
from planner.workspace.store import Workspace, WorkspaceError, init_workspace, open_workspace

__all__ = [
    "EditRefused",
    "EditRequest",
    "ReplanRequest",
    "Workspace",
    "WorkspaceError",
    "add_pin",
    "carry_over",
    "cycle_history",
    "edit_run",
    "init_workspace",
    "next_cycle_start",
    "open_workspace",
    "pins_between",
    "plan_diff",
    "publish",
    "record",
    "register_run",
    "remove_pin",
    "replan",
    "report_data",
    "with_priority",
    "write_report",
]
