"""Dependencies every route uses: the database, the clock, who is signed in, what they may do.

Each route declares its access with exactly one of these, and the route x role tests read the
declaration from the application's own route table (:func:`access_of`):

- pages: ``PageUser`` (any signed-in user) or ``Depends(page_permission(Permission.X))``;
  anonymous requests are redirected to ``/login``;
- API: ``ApiUser`` or ``Depends(api_permission(Permission.X))``; anonymous requests get 401;
- public routes (sign-in, health check) use ``Depends(public)``.

Page dependencies check the CSRF token of unsafe requests (POST) themselves, after sign-in
and permission; public POST pages (sign-in, sign-out) add ``Depends(csrf_protect)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ketaclinic.errors import AuthenticationError, NotAllowedError
from ketaclinic.services import Actor, Permission, SignedIn, authenticate
from ketaclinic.web._security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    csrf_token_from_cookies,
    tokens_match,
)

__all__ = [
    "Access",
    "ApiUser",
    "NotSignedInError",
    "PageUser",
    "access_of",
    "api_permission",
    "api_user",
    "client_address",
    "csrf_protect",
    "database",
    "page_or_api_user",
    "page_permission",
    "page_user",
    "public",
    "request_actor",
    "route_table",
]


class NotSignedInError(Exception):
    """Raised by the user dependencies; the app answers 401 (API) or redirects (pages)."""

    def __init__(self, message: str, *, api: bool) -> None:
        super().__init__(message)
        self.api = api


class CsrfError(Exception):
    """A page form without the right CSRF token (answered 403)."""


@dataclass(frozen=True)
class Access:
    """What a route requires: ``public``, ``signed_in``, or ``permission`` (with its name),
    for ``pages`` or ``api``."""

    kind: str
    interface: str
    permission: Permission | None = None


def database(request: Request) -> Any:
    return request.app.state.db


def clock(request: Request) -> Any:
    return request.app.state.clock


def client_address(request: Request) -> str:
    """The peer's address (uvicorn fills it from the socket; no proxy header is trusted)."""
    return request.client.host if request.client is not None else "unknown"


def request_actor(request: Request, user: SignedIn) -> Actor:
    """Who acts in this request, for the services' audit trail: the signed-in user, from
    the peer's address."""
    return user.actor(client_address(request))


def _mark(access: Access) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        function.__ketaclinic_access__ = access  # type: ignore[attr-defined]
        return function

    return mark


@_mark(Access("public", "any"))
def public() -> None:
    """Marks a route that anonymous users may reach (sign-in, health check)."""


def _signed_in(request: Request, *, api: bool) -> SignedIn:
    if api:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotSignedInError("sign in: send 'Authorization: Bearer TOKEN'", api=True)
        token, kind = token.strip(), "api"
    else:
        token, kind = request.cookies.get(SESSION_COOKIE, ""), "browser"
        if not token:
            raise NotSignedInError("please sign in", api=False)
    try:
        user = authenticate(database(request), token, kind=kind, clock=clock(request))
    except AuthenticationError as exc:
        raise NotSignedInError(str(exc), api=api) from None
    request.state.user = user
    return user


async def _page_guard(request: Request, permission: Permission | None) -> SignedIn:
    """Signed in, then the permission, then (unsafe methods) the CSRF token: in this order,
    so that an anonymous visitor is sent to sign in and a forbidden role gets 403."""
    user = await run_in_threadpool(_signed_in, request, api=False)
    if permission is not None and not user.can(permission):
        raise NotAllowedError(f"the {user.role} role may not do this ({permission.value})")
    await csrf_protect(request)
    return user


@_mark(Access("signed_in", "pages"))
async def page_user(request: Request) -> SignedIn:
    """The signed-in user of a page (session cookie); unsafe methods need the CSRF token."""
    return await _page_guard(request, None)


@_mark(Access("signed_in", "api"))
def api_user(request: Request) -> SignedIn:
    """The signed-in user of an API call (bearer token)."""
    return _signed_in(request, api=True)


@_mark(Access("signed_in", "any"))
def page_or_api_user(request: Request) -> SignedIn:
    """A bearer token when the request has one, else the session cookie."""
    return _signed_in(request, api="authorization" in request.headers)


PageUser = Annotated[SignedIn, Depends(page_user)]
ApiUser = Annotated[SignedIn, Depends(api_user)]


def _api_permission(permission: Permission) -> Callable[[Request], SignedIn]:
    @_mark(Access("permission", "api", permission))
    def dependency(request: Request) -> SignedIn:
        user = _signed_in(request, api=True)
        if not user.can(permission):
            raise NotAllowedError(f"the {user.role} role may not do this ({permission.value})")
        return user

    dependency.__name__ = f"api_{permission.name.lower()}"
    return dependency


def _page_permission(permission: Permission) -> Callable[[Request], Awaitable[SignedIn]]:
    @_mark(Access("permission", "pages", permission))
    async def dependency(request: Request) -> SignedIn:
        return await _page_guard(request, permission)

    dependency.__name__ = f"page_{permission.name.lower()}"
    return dependency


_PAGE: dict[Permission, Callable[[Request], Awaitable[SignedIn]]] = {}
_API: dict[Permission, Callable[[Request], SignedIn]] = {}


def page_permission(permission: Permission) -> Callable[[Request], Awaitable[SignedIn]]:
    """A dependency: the signed-in page user, who must hold ``permission`` (else 403); an
    unsafe method (POST) also needs the form's CSRF token."""
    if permission not in _PAGE:
        _PAGE[permission] = _page_permission(permission)
    return _PAGE[permission]


def api_permission(permission: Permission) -> Callable[[Request], SignedIn]:
    """A dependency: the bearer-token user, who must hold ``permission`` (else 403)."""
    if permission not in _API:
        _API[permission] = _api_permission(permission)
    return _API[permission]


async def csrf_protect(request: Request) -> None:
    """Refuse an unsafe page request whose form does not carry the CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = csrf_token_from_cookies(dict(request.cookies))
    try:
        form = await request.form()
    except Exception:  # a body that is not a form
        raise CsrfError("the request is not a form") from None
    if not tokens_match(expected, form.get(CSRF_FIELD)):
        raise CsrfError(
            "the form has expired or did not come from this site; reload the page and try again"
        )


def access_of(dependencies: list[Any]) -> list[Access]:
    """The access declarations among a route's dependency callables (see the module doc)."""
    found = []
    for call in dependencies:
        access = getattr(call, "__ketaclinic_access__", None)
        if isinstance(access, Access):
            found.append(access)
    return found


@dataclass(frozen=True)
class RouteInfo:
    """One route of the application: path, methods and its access declarations."""

    path: str
    methods: frozenset[str]
    access: tuple[Access, ...]
    csrf: bool
    endpoint: Callable[..., Any]


def _calls(dependant: Any) -> list[Any]:
    found = []
    for sub in getattr(dependant, "dependencies", []):
        found.append(sub.call)
        found += _calls(sub)
    return found


def _walk(routes: list[Any]) -> list[Any]:
    out = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out += _walk(list(inner.routes)) if inner is not None else [route]
    return out


def allowed_methods(app: Any, path: str) -> list[str]:
    """Every method some route of ``app`` answers on ``path`` (for a 405's ``Allow``)."""
    methods: set[str] = set()
    for route in _walk(list(app.routes)):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path) and getattr(route, "methods", None):
            methods |= set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")  # answered as GET without the body (SecurityHeaders)
    return sorted(methods)


def route_table(app: Any) -> list[RouteInfo]:
    """Every HTTP route of ``app`` (routers included), with what it requires."""
    table = []
    for route in _walk(list(app.routes)):
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        calls = _calls(dependant)
        table.append(
            RouteInfo(
                path=route.path,
                methods=frozenset(route.methods or ()),
                access=tuple(access_of(calls)),
                csrf=csrf_protect in calls
                or any(a.interface == "pages" and a.kind != "public" for a in access_of(calls)),
                endpoint=route.endpoint,
            )
        )
    return table
