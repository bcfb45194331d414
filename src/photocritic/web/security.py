"""Guards in front of every route: Host allow-list, cross-site request checks, body size limit, headers.

The server is meant for one person on their own machine, so the threats are other web sites the
same browser visits:

* **Cross-site requests** (CSRF). Every state-changing request (anything but GET/HEAD/OPTIONS)
  must carry the header ``X-CSRF-Token`` with the token of this server process, which only
  same-origin pages can read (it is in the page and at ``GET /api/session``). A custom header
  also forces a CORS preflight that this server never approves. On top of that a request whose
  ``Origin`` is not this server, or that the browser marks ``Sec-Fetch-Site: cross-site``, is
  refused even with a token.
* **DNS rebinding**: requests whose Host header is not an allowed name are refused (400), so a
  page on ``evil.example`` that rebinds its name to 127.0.0.1 cannot reach the API.
* **Huge bodies**: a request body longer than the limit is refused with 413, from its
  Content-Length before reading, or as soon as a chunked body passes the limit.
"""
from __future__ import annotations

import hmac
import re
from collections.abc import Iterable

from fastapi.security import APIKeyHeader
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Documents the header in OpenAPI (Swagger's "Authorize" button); GuardMiddleware does the checking.
csrf_scheme = APIKeyHeader(
    name=CSRF_HEADER,
    scheme_name="csrf",
    description="The token from GET /api/session; required on every POST.",
    auto_error=False,
)

# Content-Security-Policy for our pages: no inline script, nothing from other origins.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _host_name(host_header: str) -> str | None:
    """The name in a Host header: a name, or a bracketed IPv6 literal, then at most ``:PORT``
    (digits); None for anything else (``localhost:80@evil.com``, ``[::1]evil.com``), which no
    allow-list holds."""
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:8000
        end = host.find("]")
        if end < 0:
            return None
        name, rest = host[: end + 1], host[end + 1 :]
    elif host.count(":") > 1:  # a bare IPv6 address, without a port
        name, rest = host, ""
    else:
        name = host.partition(":")[0]
        rest = host[len(name) :]
    if rest and not re.fullmatch(r":[0-9]{1,5}", rest):
        return None
    return name or None


class GuardMiddleware:
    """Host allow-list, CSRF token + Origin checks, request body limit, security headers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        csrf_token: str,
        allowed_hosts: Iterable[str] | None,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.csrf_token = csrf_token
        self.allowed_hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.allowed_hosts is not None and "*" not in self.allowed_hosts:
            if _host_name(headers.get("host", "")) not in self.allowed_hosts:
                await PlainTextResponse("Invalid host header", status_code=400)(scope, receive, send)
                return
        method = scope["method"].upper()
        if method not in SAFE_METHODS:
            problem = self._cross_site_problem(scope, headers)
            if problem:
                await JSONResponse({"detail": problem}, status_code=403)(scope, receive, send)
                return
            length = headers.get("content-length")
            if length is not None:
                try:
                    too_big = int(length) > self.max_body_bytes
                except ValueError:
                    await JSONResponse({"detail": "bad Content-Length"}, status_code=400)(scope, receive, send)
                    return
                if too_big:
                    await self._too_large(scope, receive, send)
                    return
            receive = self._counting(receive)
        await self.app(scope, receive, self._with_headers(send, scope))

    def _cross_site_problem(self, scope: Scope, headers: Headers) -> str | None:
        token = headers.get(CSRF_HEADER.lower(), "")
        if not token or not hmac.compare_digest(token.encode(), self.csrf_token.encode()):
            return (
                f"missing or wrong {CSRF_HEADER} header: state-changing requests need the token from "
                "GET /api/session (pages send it for you)"
            )
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            return "cross-site request refused"
        origin = headers.get("origin")
        if origin is not None:
            scheme = scope.get("scheme", "http")
            own = f"{scheme}://{headers.get('host', '')}".lower()
            if origin.lower().rstrip("/") != own:
                return f"request from another origin ({origin}) refused"
        return None

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit_mb = self.max_body_bytes / 1_000_000
        response = JSONResponse(
            {"detail": f"request body too large: the limit is {limit_mb:.0f} MB"},
            status_code=413,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.max_body_bytes

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, f"request body too large: the limit is {limit / 1_000_000:.0f} MB")
            return message

        return counted

    @staticmethod
    def _with_headers(send: Send, scope: Scope) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                names = {k.lower() for k, _ in raw}
                extra = {
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"no-referrer",
                    b"x-frame-options": b"DENY",
                    b"cross-origin-resource-policy": b"same-origin",
                }
                for key, value in extra.items():
                    if key not in names:
                        raw.append((key, value))
                message = {**message, "headers": raw}
            await send(message)

        return sending


LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]", "::1"]


def machine_names() -> list[str]:
    """This machine's own names and addresses (host name, fully qualified name, their addresses)."""
    import socket

    names: set[str] = set()
    for name in (socket.gethostname(), socket.getfqdn()):
        if name:
            names.add(name.lower())
    for name in list(names):
        try:
            for info in socket.getaddrinfo(name, None):
                address = info[4][0]
                names.add(f"[{address}]" if ":" in address else address)
        except OSError:
            pass
    return sorted(names)


def default_allowed_hosts(host: str) -> list[str]:
    """Host names accepted without ``--allow-host``: loopback names, plus for a non-loopback binding
    the address bound and this machine's own names. Never "any": an empty allow-list would let a
    DNS-rebinding page (its own name pointed at this machine) read the CSRF token and post."""
    loopback = list(LOOPBACK_NAMES)
    if host in ("127.0.0.1", "localhost", "::1", "[::1]") or host.startswith("127."):
        return loopback + ([host] if host not in loopback else [])
    extra = machine_names()
    if host not in ("0.0.0.0", "::", "[::]", ""):
        extra.append(f"[{host}]" if ":" in host and not host.startswith("[") else host.lower())
    return loopback + [name for name in dict.fromkeys(extra) if name not in loopback]


__all__ = ["CSRF_HEADER", "csrf_scheme", "GuardMiddleware", "PAGE_CSP", "default_allowed_hosts"]
