"""The web app: :func:`create_app` builds the FastAPI application of one workspace.

Pages are server-rendered Jinja2 templates (autoescaped) with HTMX for the live parts;
every asset (HTMX, Leaflet, CSS) is served from the package, so no page loads anything
from outside the machine. Routes are grouped by page in :mod:`planner.app.views`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from planner.app import services
from planner.app.auth import LoginRequired, is_loopback
from planner.app.files import PathRefused, Workspace
from planner.app.jobs import Dispatcher
from planner.app.pages import PKG, error_page
from planner.app.store import Store
from planner.app.views import register

RENDER_ASSETS = PKG.parent / "render" / "assets"
#: Host names a loopback app without accounts answers to.
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
#: Largest upload accepted, in bytes.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes (by header, and while streaming) with 413."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _plain(send, 413, "request too large")
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(status_code=413, detail="too large")
            return message

        await self.app(scope, limited, send)


async def _plain(send: Send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": text.encode()})


def security_headers(response: Response) -> Response:
    """Headers that keep pages on this machine: no outside scripts, styles, images or frames."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'self'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def create_app(
    root: Path | str = "workspace",
    *,
    host: str = "127.0.0.1",
    open_local: bool | None = None,
    data: Path | None = None,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    start_jobs: bool = True,
    db: str | Path | None = None,
) -> FastAPI:
    """The web app of one workspace folder.

    Parameters
    ----------
    root : path
        The workspace folder (made on first start, with a copy of the shipped data or ``data``).
    host : str
        The address it will be served on; a loopback address without accounts needs no login.
    open_local : bool, optional
        Override that rule (tests).
    data : path, optional
        The area copied into a new workspace (default: the shipped data).
    max_upload_bytes : int
        Largest request body accepted.
    start_jobs : bool
        Start the job dispatcher (worker processes) with the app.
    db : str or path, optional
        The workspace database (file or URL; default ``root/planner.db``), created or upgraded on start.

    Returns
    -------
    FastAPI
        The application; ``app.state`` holds ``store``, ``ws`` and ``dispatcher``.
    """
    ws = Workspace(Path(root).resolve()).ensure(data)
    store = Store(ws.root / "app.db")
    db = str(db or ws.root / "planner.db")
    services.ensure(db)
    dispatcher = Dispatcher(store, ws.root)

    async def lifespan(app):
        if start_jobs:
            dispatcher.start()
        yield
        if start_jobs:
            dispatcher.stop()

    app = FastAPI(title="planner", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.store, app.state.ws, app.state.dispatcher, app.state.db = store, ws, dispatcher, db
    app.state.open_local = is_loopback(host) if open_local is None else open_local
    app.state.max_upload_bytes = max_upload_bytes
    templates = Jinja2Templates(directory=str(PKG / "templates"))
    templates.env.autoescape = True
    app.state.templates = templates

    app.add_middleware(
        SessionMiddleware,
        secret_key=store.secret_key(),
        session_cookie="planner_session",
        same_site="strict",
        https_only=False,
        max_age=12 * 3600,
    )
    app.add_middleware(BodyLimit, limit=max_upload_bytes)
    if app.state.open_local:
        # without a login, answer only requests addressed to this machine (no DNS rebinding)
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        return security_headers(await call_next(request))

    app.mount("/static", StaticFiles(directory=str(PKG / "static")), name="static")
    app.mount("/leaflet", StaticFiles(directory=str(RENDER_ASSETS)), name="leaflet")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error_page(request, exc.status_code)

    @app.exception_handler(PathRefused)
    async def path_refused(request: Request, exc: PathRefused):
        return error_page(request, 404)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        return error_page(request, 400)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        return error_page(request, 500)

    register(app)
    return app
