"""Accounts, roles, sessions, CSRF tokens and login rate limiting, in one module.

Roles rank ``viewer < planner < admin``: a viewer reads every page and downloads; a planner
also edits data, runs plans and comparisons, publishes and records; an admin also manages
accounts. When the app is bound to a loopback address and no account exists, the person at
the machine is the local admin and no login is asked; with accounts, or on any other address,
every route needs a signed-in user of the right role.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, HTTPException, Request
from starlette.datastructures import UploadFile

from planner.app.store import ROLES, Store

HASHER = PasswordHasher()
#: At most this many failed logins per user name and per client address in the window.
MAX_FAILED_LOGINS = 5
LOGIN_WINDOW_S = 300
LOCAL_USER = {"name": "local", "role": "admin"}


class LoginRequired(Exception):
    """Raised by a route's role check when nobody is signed in (the app redirects to the login page)."""


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return HASHER.hash(password)


def add_user(store: Store, name: str, role: str, password: str) -> None:
    """Create (or reset) an account with an argon2 password hash.

    Parameters
    ----------
    store : Store
        The app database.
    name, role, password : str
        Login name (letters, digits, ``_.-@``), one of ``viewer``, ``planner``, ``admin``, and a password
        of at least 8 characters.

    Returns
    -------
    None
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 64 or not all(c.isalnum() or c in "_.-@" for c in name):
        raise ValueError("a user name is 1-64 letters, digits or _.-@")
    if len(password) < 8:
        raise ValueError("a password has at least 8 characters")
    store.add_user(name, role, hash_password(password))


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def verify_login(store: Store, name: str, password: str, client: str) -> tuple[dict | None, str]:
    """Check a login, counting failures per user name and per client address.

    Returns
    -------
    user, why
        The account (or None) and, when refused, ``"locked"`` or ``"bad"``.
    """
    now = time.time()
    since = now - LOGIN_WINDOW_S
    for key in (f"user:{name}", f"addr:{client}"):
        if store.failed_logins(key, since) >= MAX_FAILED_LOGINS:
            return None, "locked"
    user = store.user(name)
    ok = False
    if user is not None:
        try:
            ok = HASHER.verify(user["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    else:
        HASHER.hash(password)  # same time whether the name exists or not
    if not ok or user is None:
        store.note_failed_login(f"user:{name}", now)
        store.note_failed_login(f"addr:{client}", now)
        return None, "bad"
    return {"name": user["name"], "role": user["role"]}, ""


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    tok = request.session.get("csrf")
    if not tok:
        tok = secrets.token_urlsafe(24)
        request.session["csrf"] = tok
    return tok


async def check_csrf(request: Request) -> None:
    """Refuse an unsafe request whose form field or ``X-CSRF-Token`` header does not match the session."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent: str | UploadFile | None = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form()
        sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(status_code=403, detail="csrf")


def current_user(request: Request) -> dict | None:
    """The signed-in account, the local admin (loopback, no accounts), or None."""
    app = request.app.state
    name = request.session.get("user")
    if name:
        user = app.store.user(name)
        if user:
            return {"name": user["name"], "role": user["role"]}
    if app.open_local and app.store.count_users() == 0:
        return dict(LOCAL_USER)
    return None


def require(role: str):
    """A route dependency: a user of at least ``role`` (and a valid CSRF token on unsafe methods)."""
    need = ROLES.index(role)

    async def dependency(request: Request) -> dict:
        await check_csrf(request)
        user = current_user(request)
        if user is None:
            raise LoginRequired()
        if ROLES.index(user["role"]) < need:
            raise HTTPException(status_code=403, detail="role")
        request.state.user = user
        return user

    setattr(dependency, "role", role)  # read by the test that every route has a role (mypy has no function attributes)
    return Depends(dependency)


def can(user: dict | None, role: str) -> bool:
    """Whether ``user`` holds at least ``role`` (for showing or hiding buttons)."""
    return user is not None and ROLES.index(user["role"]) >= ROLES.index(role)
