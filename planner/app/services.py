"""The app's one door to the workspace database (:mod:`planner.workspace`, issue 11).

The Edit, Record and Report pages and the closures on the Data page call only these
functions. While the workspace package is not part of this branch, :func:`available`
is False and the pages say so plainly instead of failing.
"""

from __future__ import annotations

try:  # the workspace package lands from its own branch
    import planner.workspace as workspace_api
except ImportError:  # pragma: no cover - depends on the merge
    workspace_api = None


def available() -> bool:
    """Whether the workspace database functions (publish, edit, record, replan, report) are present."""
    return workspace_api is not None


def status() -> dict:
    """What the pages need to know about the workspace API: ``{"available": bool}``."""
    return {"available": available()}
