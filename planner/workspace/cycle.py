"""The next cycle: villages left below their frequency come first.

For every cycle in the recorded history (the published plan of each period), a village's
visits are the planned visits that serve it (its own stop, or a stop its people walk to)
less those recorded as not held or cancelled; a visit not recorded at all counts as held.
A village that got fewer visits than its cycle required is *carried over*.

The weight handed to the planner is the village column ``priority``::

    priority = 1 + CARRY_WEIGHT * (number of cycles in a row, up to the last one, it was short)

so a village missed once weighs 1 + 4 = 5 times its people in the objective, missed twice 9
times: over several cycles it comes before villages served on time, and no village is left
out twice in a row while a feasible plan can reach it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from planner.model.area import Area
from planner.workspace.db import PlanRecord, Visit
from planner.workspace.service import load_run_plan
from planner.workspace.store import Workspace, WorkspaceError

CARRY_WEIGHT = 4.0


def cycle_history(ws: Workspace) -> list[dict]:
    """Per published (or superseded-by-a-published-replan) cycle: its dates, and per village visits held and required.

    Returns
    -------
    list of dict
        Oldest first: ``{"run", "start", "end", "held": {village: n}, "required": {village: n}}``.
    """
    with ws.transaction() as s:
        recs = s.scalars(
            select(PlanRecord).where(PlanRecord.status == "published").order_by(PlanRecord.start_date)
        ).all()
        not_held = {
            (v.date, v.village_id) for v in s.scalars(select(Visit).where(Visit.held.in_(("no", "cancelled")))).all()
        }
        items = [(r.run, Path(r.run_dir), r.start_date, r.end_date) for r in recs]
    out = []
    for run, run_dir, start, end in items:
        plan = load_run_plan(run_dir)
        held: dict[str, int] = {}
        for d in plan.days:
            for st in d.stops:
                if st.kind == "village" and (d.date, st.stop_id) not in not_held:
                    for v in st.villages_served:
                        held[v] = held.get(v, 0) + 1
        unreachable = {u.village_id for u in plan.unserved if u.reason == "unreachable"}
        required = {
            v.village_id: v.visits_required
            for v in plan.villages
            if v.channel != "fixed_point" and v.village_id not in unreachable
        }
        out.append({"run": run, "start": start, "end": end, "held": held, "required": required})
    return out


def carry_over(history: list[dict]) -> dict[str, int]:
    """Village id -> cycles in a row (ending with the latest) it got fewer visits than required.

    Villages no vehicle can reach (reason ``unreachable``) are not carried over: no plan can
    reach them.
    """
    streak: dict[str, int] = {}
    for cyc in history:
        for v in set(streak) - set(cyc["required"]):
            streak[v] = 0
        for v, need in cyc["required"].items():
            streak[v] = streak.get(v, 0) + 1 if cyc["held"].get(v, 0) < need else 0
    return {v: n for v, n in streak.items() if n > 0}


def next_cycle_start(ws: Workspace) -> tuple[dt.date, int]:
    """The day after the latest published cycle, and that cycle's length in weeks."""
    with ws.transaction() as s:
        rec = s.scalars(
            select(PlanRecord).where(PlanRecord.status == "published").order_by(PlanRecord.end_date.desc())
        ).first()
        if rec is None:
            raise WorkspaceError(
                "no published plan: --next-cycle plans the cycle after the published one; publish one first"
            )
        weeks = max(1, round(((rec.end_date - rec.start_date).days + 1) / 7))
        return rec.end_date + dt.timedelta(days=1), weeks


def with_priority(area: Area, streaks: dict[str, int]) -> Area:
    """The area with the ``priority`` village column set from the carry-over streaks."""
    vill = area.villages.copy()
    vill["priority"] = [1.0 + CARRY_WEIGHT * streaks.get(str(i), 0) for i in vill["id"].astype(str)]
    return replace(area, villages=vill)
