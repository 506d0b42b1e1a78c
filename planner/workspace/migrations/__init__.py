"""Alembic migrations of the workspace database (run programmatically by :mod:`planner.workspace.store`)."""
