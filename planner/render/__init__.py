"""Renderers: take a :class:`~planner.plan.Plan` (and the :class:`~planner.area.Area`) and write an artefact."""
