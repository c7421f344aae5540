"""Sign-in and sign-out pages (``/login``, ``/logout``).

A successful sign-in always issues a new session token (any session the browser had is ended
first), so a token planted before sign-in is worth nothing after it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from ketaclinic.errors import AuthenticationError, ThrottledError
from ketaclinic.services import sign_in, sign_out
from ketaclinic.web._deps import client_address, clock, csrf_protect, database, public
from ketaclinic.web._security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    csrf_token_from_cookies,
    new_csrf_cookie,
)
from ketaclinic.web._templates import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a scheme) is a place to go after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, status: int = 200, **context: object) -> Response:
    token = csrf_token_from_cookies(dict(request.cookies))
    fresh = None
    if token is None:
        token = fresh = new_csrf_cookie()
    response = render(request, "login.html", dict(context), status, csrf_token=token)
    if fresh is not None:
        response.set_cookie(CSRF_COOKIE, fresh, httponly=True, samesite="strict", path="/")
    return response


@router.get("/login", dependencies=[Depends(public)])
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, next=safe_next(next))


@router.post("/login", dependencies=[Depends(public), Depends(csrf_protect)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    db, address = database(request), client_address(request)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        sign_out(db, old, client_address=address, clock=clock(request))
    try:
        new = sign_in(
            db, username, password, client_address=address, kind="browser", clock=clock(request)
        )
    except (AuthenticationError, ThrottledError) as exc:
        status = 429 if isinstance(exc, ThrottledError) else 401
        page = _login_page(request, status, error=str(exc), username=username, next=safe_next(next))
        if isinstance(exc, ThrottledError):
            page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    response = RedirectResponse(safe_next(next), status_code=303)
    settings = request.app.state.db.settings
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=settings.session_max_age_h * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.post("/logout", dependencies=[Depends(public), Depends(csrf_protect)])
def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sign_out(database(request), token, client_address=client_address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
