"""Response headers every answer carries, and the CSRF token of a form.

Content-Security-Policy allows scripts, styles, fonts and images from this origin only (no
inline script: pages put their JavaScript in /static files), forbids framing
(``frame-ancestors 'none'``) and plugins; ``nosniff``; no Referer leaves the site. Every
response but static files is ``Cache-Control: no-store``: a page may show patient data, and a
shared tablet's browser cache must not keep it.

CSRF (synchroniser token bound to the session): the token of a signed-in form is
HMAC-SHA256(session token, purpose), which only a holder of the HttpOnly session cookie can
compute; the sign-in form, before any session exists, uses a double-submit cookie
(``kc_csrf``, random). Every unsafe page request must echo the token in ``csrf_token``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "SecurityHeaders",
    "csrf_token_from_cookies",
    "new_csrf_cookie",
]

SESSION_COOKIE = "kc_session"
CSRF_COOKIE = "kc_csrf"
CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_NO_STORE = (b"cache-control", b"no-store")
_STATIC_CACHE = (b"cache-control", b"public, max-age=3600")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """ASGI middleware: the security headers and the cache rule on every HTTP response; a
    ``HEAD`` request gets the ``GET`` answer's status and headers without its body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")
        head = scope.get("method") == "HEAD"
        if head:  # routed as the GET it asks about
            scope = {**scope, "method": "GET"}

        async def send_with_headers(message: Message) -> None:
            if head and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the body is not sent; only its end is
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            if message["type"] == "http.response.start":
                names = {b"cache-control"} | {name for name, _ in _HEADERS}
                headers = [h for h in message.get("headers", []) if h[0].lower() not in names]
                headers += _HEADERS
                headers.append(_STATIC_CACHE if static else _NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _session_csrf(session_token: str) -> str:
    key = session_token.encode("utf-8", "surrogatepass")
    return hmac.new(key, b"ketaclinic form token v1", hashlib.sha256).hexdigest()


def csrf_token_from_cookies(cookies: dict[str, str]) -> str | None:
    """The token forms must carry: bound to the session when there is one, else the
    double-submit cookie (``None`` when neither cookie exists yet)."""
    session = cookies.get(SESSION_COOKIE)
    if session:
        return _session_csrf(session)
    return cookies.get(CSRF_COOKIE) or None


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: object) -> bool:
    if not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))
