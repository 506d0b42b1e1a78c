"""The local web app (``planner serve``): FastAPI, Jinja2 templates and HTMX, all served from the package.

See :func:`planner.app.server.create_app`. Security rules (accounts, roles, CSRF, uploads,
paths) live in :mod:`planner.app.auth` and :mod:`planner.app.files`; long work runs in
worker processes from the queue of :mod:`planner.app.jobs`.
"""
