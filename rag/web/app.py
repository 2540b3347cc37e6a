"""The ASGI app of `rag web` (FastAPI on Starlette, served by uvicorn): pages (rag.web.pages), the JSON API
(rag.web.api), one script file, and what every response gets:

- a Content-Security-Policy allowing scripts only from this server's /static (no inline script, no
  eval), no frames, no plugins, no outside resources; nosniff; no referrer; no framing of the pages;
- request bodies over RAG_WEB_MAX_BODY refused (413) before they are read;
- errors as one line: `{"error": ...}` under /api, an error page elsewhere, never a traceback.

Status codes: InputError 400, Unauthorized 401, Forbidden 403, NotFoundError 404, QueueFull 503,
RateLimited 429, IndexEmptyError 409, LockedError 409, BackendError/ModelError 502, other RagError 400.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.config import Settings
from rag.errors import BackendError, IndexEmptyError, InputError, LockedError, ModelError, NotFoundError, RagError
from rag.models.embed import Embedder
from rag.models.llm import ChatModel
from rag.web.api import Forbidden, Unauthorized
from rag.web.api import router as api_router
from rag.web.pages import error_page
from rag.web.pages import router as page_router
from rag.web.queue import QueueFull
from rag.web.state import RateLimited, WebState

log = logging.getLogger("rag.web")

CSP = ("default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
STATUS: list[tuple[type[Exception], int]] = [
    (Unauthorized, 401), (Forbidden, 403), (NotFoundError, 404), (QueueFull, 503), (RateLimited, 429),
    (IndexEmptyError, 409), (LockedError, 409), (BackendError, 502), (ModelError, 502), (InputError, 400),
    (RagError, 400)]


class Guard:
    """Security headers on every response; bodies over `max_body` bytes refused with 413 (by their
    Content-Length, or while they stream in)."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = f"the request body is over {self.max_body} bytes (RAG_WEB_MAX_BODY): send less"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _reply(scope, send, 413, too_big)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_body:
                    raise _TooBig(too_big)
            return msg

        async def secured(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                msg = {**msg, "headers": [*msg.get("headers", []), *HEADERS]}
            await send(msg)

        try:
            await self.app(scope, limited, secured)
        except _TooBig as e:
            if not started:
                await _reply(scope, send, 413, str(e))


class _TooBig(Exception):
    pass


async def _reply(scope: Scope, send: Send, status: int, message: str) -> None:
    resp = (JSONResponse({"error": message}, status_code=status) if scope["path"].startswith("/api")
            else error_page(status, message))
    resp.headers.update({k.decode(): v.decode() for k, v in HEADERS})
    await resp(scope, _noop_receive, send)


async def _noop_receive() -> Message:
    return {"type": "http.disconnect"}


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api"):
        return JSONResponse({"error": message}, status_code=status)
    return error_page(status, message)


def create_app(settings: Settings, *, embedder: Embedder | None = None, llm: ChatModel | None = None) -> FastAPI:
    """The app over the index of `settings`; `embedder`/`llm` replace the configured ones (tests, benchmarks)."""
    app = FastAPI(title="rag-news", version="0.1.0", openapi_url="/api/openapi.json", docs_url=None, redoc_url=None,
                  description="Cited answers, digests, briefs and checks over a news index: the CLI's JSON "
                  "contracts over HTTP. Writes need `Authorization: Bearer RAG_WEB_TOKEN`.")
    app.state.web = WebState(settings, embedder=embedder, llm=llm)
    app.include_router(api_router)
    app.include_router(page_router)

    @app.get("/static/web.js", include_in_schema=False)
    async def script() -> Response:
        body = files("rag.assets").joinpath("web.js").read_bytes()
        return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.exception_handler(RagError)
    async def rag_error(request: Request, e: RagError) -> Response:
        status = next(code for kind, code in STATUS if isinstance(e, kind))
        return _error(request, status, str(e))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> Response:
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body") or "request"
        return _error(request, 422, f"{where}: {first.get('msg', 'invalid')}; see /api/openapi.json for the fields")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException) -> Response:
        msg = "no such page: see /ask, /days, /story, /check or /api/openapi.json" if e.status_code == 404 else str(e.detail)
        return _error(request, e.status_code, msg)

    @app.exception_handler(Exception)
    async def crash(request: Request, e: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return _error(request, 500, "internal error: see the rag web log")

    return app


def wrap(app: FastAPI, settings: Settings) -> Any:
    """The app behind its guard (headers, body limit): what uvicorn serves."""
    return Guard(app, settings.web_max_body)


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_port(host: str, port: int) -> None:
    """InputError when `host:port` cannot be bound (in use, not this machine's address, out of range)."""
    import socket

    from rag.errors import InputError

    if not 0 < port < 65536:
        raise InputError(f"--port {port} is not a port: give one from 1 to 65535, e.g. --port 8080")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(infos[0][4])
    except OSError as e:
        raise InputError(f"cannot serve on {host}:{port} ({e.strerror or e}): choose another --port or --host") from e


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080,
          warn: Any = None, on_ready: Any = None) -> None:
    """`rag web`: serve the app with uvicorn until interrupted. A host other than loopback without
    RAG_WEB_TOKEN gets a warning (`warn(message)`): the pages and read API are then open to the network."""
    import uvicorn

    if not is_loopback(host) and warn is not None:
        warn(f"serving on {host}: anyone who can reach it can read the index and use the model"
             + ("" if settings.web_token else "; writes stay disabled (set RAG_WEB_TOKEN to allow them)"))
    _check_port(host, port)
    app = create_app(settings)
    config = uvicorn.Config(wrap(app, settings), host=host, port=port, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready(f"http://{host}:{port}")
    try:
        server.run()
    finally:
        app.state.web.queue.close()
