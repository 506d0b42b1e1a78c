"""Renderers: take a :class:`~planner.model.plan.Plan` (and the :class:`~planner.model.area.Area`) and write an artefact."""
