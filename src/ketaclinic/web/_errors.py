"""Every error becomes a short answer: JSON ``{"message": ...}`` under ``/api`` (and for
``/openapi.json``), an HTML page with the message elsewhere. Never a traceback, and for no
input a 500: ketaclinic's errors map to 4xx, validation errors to 422, unknown paths to 404.

==============================  ======  ===============================================
exception                       status  note
==============================  ======  ===============================================
not signed in (any reason)      401     pages: 303 redirect to ``/login?next=PATH``
AuthenticationError             401     wrong username or password
NotAllowedError                 403     the body names the role, never any record
CSRF token missing or wrong     403
RecordNotFoundError             404
UserInputError, validation      422     ``detail``: one entry per field
ThrottledError                  429     ``Retry-After`` header
RefusedError (others)           409
IntegrityFailureError           500     stored data failed verification (not input)
anything else                   500     logged; the body says only "internal error"
==============================  ======  ===============================================
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ketaclinic.errors import (
    AuthenticationError,
    IntegrityFailureError,
    KetaclinicError,
    NotAllowedError,
    RecordNotFoundError,
    RefusedError,
    ThrottledError,
    UserInputError,
)
from ketaclinic.web._deps import CsrfError, NotSignedInError, allowed_methods
from ketaclinic.web._templates import render

__all__ = ["install_error_handlers", "status_of"]

_log = logging.getLogger("ketaclinic.web")


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/api" or path == "/openapi.json"


def status_of(exc: KetaclinicError) -> int:
    """The HTTP status of one of ketaclinic's errors."""
    if isinstance(exc, AuthenticationError):
        return 401
    if isinstance(exc, NotAllowedError):
        return 403
    if isinstance(exc, ThrottledError):
        return 429
    if isinstance(exc, RecordNotFoundError):
        return 404
    if isinstance(exc, UserInputError):
        return 422
    if isinstance(exc, RefusedError):
        return 409
    if isinstance(exc, IntegrityFailureError):
        return 500
    return 422


def _answer(
    request: Request,
    status: int,
    message: str,
    detail: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if _is_api(request):
        body: dict[str, Any] = {"message": message}
        if detail is not None:
            body["detail"] = detail
        return JSONResponse(body, status_code=status, headers=headers)
    response = render(request, "error.html", {"status": status, "message": message}, status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for error in exc.errors():
        loc = [p if isinstance(p, int) else str(p) for p in error.get("loc", ())]
        out.append({"loc": loc, "msg": str(error.get("msg", "")), "type": str(error["type"])})
    return out


def _validation_message(detail: list[dict[str, Any]]) -> str:
    parts = []
    for error in detail[:3]:
        where = ".".join(str(p) for p in error["loc"] if p not in ("body", "query", "path"))
        parts.append(f"{where or 'request'}: {error['msg']}")
    more = f" (and {len(detail) - 3} more)" if len(detail) > 3 else ""
    return "; ".join(parts) + more


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotSignedInError)
    async def _not_signed_in(request: Request, exc: NotSignedInError) -> Response:
        if exc.api or _is_api(request):
            return _answer(request, 401, str(exc), headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        return _answer(request, 403, str(exc))

    @app.exception_handler(KetaclinicError)
    async def _ours(request: Request, exc: KetaclinicError) -> Response:
        status = status_of(exc)
        headers = None
        if isinstance(exc, ThrottledError):
            headers = {"Retry-After": str(exc.retry_after_s)}
        if status == 500:
            _log.error("integrity failure on %s: %s", request.url.path, exc)
        return _answer(request, status, str(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        detail = _field_errors(exc)
        return _answer(request, 422, _validation_message(detail), detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "no such page", 405: "method not allowed here"}
        message = messages.get(exc.status_code, str(exc.detail))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not only the first route's
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        return _answer(request, exc.status_code, message, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        _log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _answer(request, 500, "internal error; the event is in the server log")
