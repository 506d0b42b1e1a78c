"""Rendering helpers shared by every route: the page context, the language and error pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse

from planner.app import services
from planner.app.auth import can, csrf_token, current_user
from planner.app.i18n import LANGS, translator
from planner.render.i18n import tr

PKG = Path(__file__).resolve().parent


def lang_of(request: Request) -> str:
    """The page language: the ``lang`` cookie, Vietnamese by default."""
    lang = request.cookies.get("lang", "vi")
    return lang if lang in LANGS else "vi"


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """A page or fragment, with the translator, the user, the CSRF token and the workspace API status."""
    lang = lang_of(request)
    user = getattr(request.state, "user", None) or current_user(request)
    ctx = {
        "t": translator(lang),
        "lang": lang,
        "user": user,
        "can": lambda role: can(user, role),
        "csrf": csrf_token(request),
        "ws_api": services.status(),
        "path": request.url.path,
        "fdate": lambda d: tr(lang).date(dt.date.fromisoformat(str(d)[:10])) if d else "",
        "max_upload_mb": request.app.state.max_upload_bytes // (1024 * 1024),
    }
    ctx.update(context)
    return request.app.state.templates.TemplateResponse(request, template, ctx, status_code=status_code)


def error_page(request: Request, status: int) -> HTMLResponse:
    """A plain error page in the user's language (never a traceback)."""
    status = status if 400 <= status < 500 else 500
    try:
        return render(request, "error.html", status_code=status, status=status)
    except Exception:  # the error page itself must not fail
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status)
