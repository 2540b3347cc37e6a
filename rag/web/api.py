"""The JSON API: the CLI's `--json` contracts over HTTP, and server-sent events for the long calls.

    POST /api/ask            {question, as_of?, since?, until?} -> `rag ask --json` (+ "related" when refused)
    GET  /api/ask/stream     ?question=&as_of=&since=&until= -> events queue, start, sentence, generated, done
    GET  /api/digest         ?date= | ?from=&to= -> `rag digest --format json`
    POST /api/brief          {topic, since?, until?} -> `rag brief --json`
    GET  /api/brief/stream   ?topic=&since=&until= -> events queue, start, progress, view, done
    GET  /api/digest/stream  ?date= -> events queue, start, view, done (`view`: the page showing the result)
    POST /api/check          {text, lines?, article_ids?, since?, until?} -> `rag check --json`
    POST /api/check/stream   the same body -> events queue, start, view, done
    GET  /api/articles       ?since=&until=&source=&limit= -> `rag list --json`
    GET  /api/articles/{id}  -> `rag show --json`
    GET  /api/stats          -> `rag stats --json`
    GET  /api/queue          -> {"running", "waiting"}
    writes (Authorization: Bearer RAG_WEB_TOKEN): POST /api/ingest, DELETE /api/articles/{id},
    GET/POST/DELETE /api/feeds

Errors are `{"error": "one line naming the problem and the fix"}` with a 4xx status (5xx only for a
failing backend). Every JSON response of a library call carries `Server-Timing: lib;dur=MS`, the time
spent in the library call itself (the benchmark's "added latency" is the rest).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from rag.errors import InputError, NotFoundError, RagError
from rag.web.queue import Cancelled, Ticket
from rag.web.state import WebState, day

log = logging.getLogger("rag.web")
router = APIRouter(prefix="/api")
Send = Callable[[str, Any], None]


class Unauthorized(RagError):  # noqa: N818
    pass


class Forbidden(RagError):  # noqa: N818
    pass


class ClientGone(RagError):  # noqa: N818
    pass


def state_of(request: Request) -> WebState:
    s: WebState = request.app.state.web
    return s


def client(request: Request) -> str:
    return request.client.host if request.client else "?"


def timed(payload: Any, seconds: float, status: int = 200) -> JSONResponse:
    return JSONResponse(payload, status_code=status, headers={"Server-Timing": f"lib;dur={seconds * 1000:.2f}"})


async def on_model(request: Request, fn: Callable[[Ticket], Any]) -> tuple[Any, float]:
    """fn(ticket) in the model thread after its turn in the queue; (result, seconds fn took)."""
    st = state_of(request)
    st.count_request(client(request))
    spent: list[float] = []

    def run(t: Ticket) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(t)
        finally:
            spent.append(time.perf_counter() - t0)

    call = asyncio.ensure_future(st.queue.call(run))
    try:
        while not (await asyncio.wait({call}, timeout=1.0))[0]:
            if await request.is_disconnected():  # the client went away: free its place (rag.web.queue)
                call.cancel()
                raise ClientGone("the client closed the connection before the answer")
    except asyncio.CancelledError:
        call.cancel()
        raise
    return call.result(), spent[0]


async def off_model(fn: Callable[[], Any]) -> tuple[Any, float]:
    """fn() in a worker thread (reads of the index); (result, seconds)."""
    def run() -> tuple[Any, float]:
        t0 = time.perf_counter()
        out = fn()
        return out, time.perf_counter() - t0

    result: tuple[Any, float] = await run_in_threadpool(run)
    return result


# ---- server-sent events -------------------------------------------------------------------------------
def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def event_stream(request: Request, job: Callable[[Ticket, Send], Any]) -> StreamingResponse:
    """Runs job(ticket, send) on the model after its turn; streams `queue` {"ahead"} while it waits, `start`,
    whatever the job sends, then `done` (the job's result) or `failure` {"error"}. A client that goes away
    cancels its request (rag.web.queue)."""
    st = state_of(request)
    st.count_request(client(request))
    st.queue.check_room()  # refused with 503 now; the place in the line is taken when the stream starts
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def send(event: str, data: Any) -> None:
        loop.call_soon_threadsafe(events.put_nowait, (event, data))

    async def gen() -> AsyncIterator[str]:
        task: asyncio.Future[Any] | None = None
        try:
            t = st.queue.join()
        except RagError as e:
            yield sse("failure", {"error": str(e)})
            return
        try:
            last = -1
            async for ahead in st.queue.positions(t):
                if await request.is_disconnected():
                    return
                if ahead != last:
                    last = ahead
                    yield sse("queue", {"ahead": ahead})
            yield sse("start", {})
            task = asyncio.ensure_future(st.queue.run(t, lambda: job(t, send)))
            while True:
                get = asyncio.ensure_future(events.get())
                done, _ = await asyncio.wait({get, task}, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                if get in done:
                    yield sse(*get.result())
                    continue
                get.cancel()
                if task not in done:
                    if await request.is_disconnected():
                        return
                    continue
                while not events.empty():
                    yield sse(*events.get_nowait())
                try:
                    yield sse("done", task.result())
                except RagError as e:
                    yield sse("failure", {"error": str(e)})
                except Cancelled:
                    pass
                except Exception:
                    log.exception("stream failed")
                    yield sse("failure", {"error": "internal error: see the rag web log"})
                return
        finally:
            if task is None:
                st.queue.leave(t)
            elif not task.done():
                task.cancel()

    return StreamingResponse(gen(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# ---- ask ----------------------------------------------------------------------------------------------
class AskIn(BaseModel):
    question: str = Field(max_length=2000, description="The question.")
    as_of: str | None = Field(None, description="Resolve 'yesterday', 'last week'... against this day (YYYY-MM-DD).")
    since: str | None = Field(None, description="Only articles published on or after this day.")
    until: str | None = Field(None, description="Only articles published on or before this day.")


def answer_json(a: Any) -> dict[str, Any]:
    out: dict[str, Any] = a.to_dict()
    out["related"] = [{"article_id": p.article_id, "title": p.title, "date": p.date, "url": p.url, "start": p.start,
                       "end": p.end, "text": p.text} for p in a.related] if a.refused else []
    return out


@router.post("/ask", summary="A cited answer (as `rag ask --json`)")
async def api_ask(body: AskIn, request: Request) -> JSONResponse:
    st = state_of(request)
    a, secs = await on_model(request, lambda t: st.ask(t, body.question, body.as_of, body.since, body.until))
    return timed(answer_json(a), secs)


@router.get("/ask/stream", summary="The answer sentence by sentence as each passes verification (SSE)")
async def api_ask_stream(request: Request, question: Annotated[str, Query(max_length=2000)], as_of: str | None = None,
                         since: str | None = None, until: str | None = None) -> StreamingResponse:
    st = state_of(request)
    if not question.strip():
        raise InputError("the question is empty: ask something, e.g. \"Who won the vote?\"")

    def job(t: Ticket, send: Send) -> dict[str, Any]:
        a = st.ask(t, question, as_of, since, until, on_text=lambda s: send("sentence", {"text": s}),
                   on_generated=lambda: send("generated", {}))
        return answer_json(a)

    return event_stream(request, job)


# ---- digest, brief, check -----------------------------------------------------------------------------
@router.get("/digest", summary="The digest of a day or a range (as `rag digest --format json`)")
async def api_digest(request: Request, date: str | None = None, date_from: Annotated[str | None, Query(alias="from")] = None,
                     date_to: Annotated[str | None, Query(alias="to")] = None) -> JSONResponse:
    from rag.store import Index
    from rag.summarise.digest import resolve_days

    st = state_of(request)

    def span() -> tuple[str, str] | None:
        with Index.open(st.settings) as ix:
            return resolve_days(ix, date, date_from, date_to, None)

    got, _ = await off_model(span)
    if got is None:
        raise InputError("the index holds no dated articles: give ?date=YYYY-MM-DD, or ingest dated articles")
    d, secs = await on_model(request, lambda t: st.digest(t, got[0], got[1]))
    return timed(d.to_dict(), secs)


@router.get("/digest/stream", summary="A day's digest with its place in the queue (SSE)")
async def api_digest_stream(request: Request, date: str) -> StreamingResponse:
    from rag.summarise.digest import parse_day

    st = state_of(request)
    d = parse_day(date, "date")

    def job(t: Ticket, send: Send) -> dict[str, Any]:
        dg = st.digest(t, d)
        send("view", {"href": f"/days/{d}?result={st.keep(dg)}"})  # the page that shows it, without the model
        out: dict[str, Any] = dg.to_dict()
        return out

    return event_stream(request, job)


def brief_href(topic: str, since: str | None, until: str | None, result: str | None = None) -> str:
    pairs = (("topic", topic), ("since", since), ("until", until), ("result", result))
    return "/story/brief?" + urlencode({k: v for k, v in pairs if v})


class BriefIn(BaseModel):
    topic: str = Field(max_length=500, description="The story, e.g. \"Syria's withdrawal from Lebanon\".")
    since: str | None = None
    until: str | None = None


@router.post("/brief", summary="A cited brief on a story (as `rag brief --json`)")
async def api_brief(body: BriefIn, request: Request) -> JSONResponse:
    st = state_of(request)
    b, secs = await on_model(request, lambda t: st.brief(t, body.topic, body.since, body.until))
    return timed(b.to_dict(), secs)


@router.get("/brief/stream", summary="A brief with its progress (SSE)")
async def api_brief_stream(request: Request, topic: Annotated[str, Query(max_length=500)], since: str | None = None,
                           until: str | None = None) -> StreamingResponse:
    st = state_of(request)
    if not topic.strip():
        raise InputError("the topic is empty: name a story, e.g. \"Geneva peace talks\"")

    def job(t: Ticket, send: Send) -> dict[str, Any]:
        b = st.brief(t, topic, since, until,
                     progress=lambda n, total, label: send("progress", {"done": n, "total": total, "label": label}))
        send("view", {"href": brief_href(topic, since, until, st.keep(b))})
        out: dict[str, Any] = b.to_dict()
        return out

    return event_stream(request, job)


class CheckIn(BaseModel):
    text: str = Field(description="The draft: each sentence is checked (or each line, with lines).")
    lines: bool = False
    article_ids: list[str] | None = Field(None, description="Check only against these articles.")
    since: str | None = None
    until: str | None = None


@router.post("/check", summary="Each sentence supported or not, with its evidence (as `rag check --json`)")
async def api_check(body: CheckIn, request: Request) -> JSONResponse:
    st = state_of(request)
    r, secs = await on_model(request, lambda t: st.check(t, body.text, body.lines, body.article_ids, body.since,
                                                         body.until))
    return timed(r.to_dict(), secs)


@router.post("/check/stream", summary="A check with its place in the queue (SSE over POST)")
async def api_check_stream(body: CheckIn, request: Request) -> StreamingResponse:
    st = state_of(request)

    def job(t: Ticket, send: Send) -> dict[str, Any]:
        r = st.check(t, body.text, body.lines, body.article_ids, body.since, body.until)
        send("view", {"href": f"/check?result={st.keep((body, r))}"})  # the page showing it
        out: dict[str, Any] = r.to_dict()
        return out

    return event_stream(request, job)


# ---- reads --------------------------------------------------------------------------------------------
@router.get("/articles", summary="Indexed articles, newest first (as `rag list --json`)")
async def api_list(request: Request, since: str | None = None, until: str | None = None, source: str | None = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> JSONResponse:
    from rag.store import Index

    st = state_of(request)

    def run() -> dict[str, Any]:
        with Index.open(st.settings) as ix:
            total, rows = ix.listing(day(since, "since"), day(until, "until"), source, limit)
        return {"total": total, "articles": rows}

    out, secs = await off_model(run)
    return timed(out, secs)


def article_json(st: WebState, article_id: str) -> dict[str, Any]:
    from rag.store import Index

    with Index.open(st.settings) as ix:
        if not ix.has_article(article_id):
            raise NotFoundError(f"no article {article_id!r} in the index: list ids with /api/articles")
        a = ix.article(article_id)
    return {"id": a.id, "title": a.title, "date": a.date, "url": a.url, "source": a.source, "text": a.text}


@router.get("/articles/{article_id:path}", summary="A stored article (as `rag show --json`)")
async def api_article(article_id: str, request: Request) -> JSONResponse:
    st = state_of(request)
    out, secs = await off_model(lambda: article_json(st, article_id))
    return timed(out, secs)


@router.get("/stats", summary="Counts, articles per day, sources (as `rag stats --json`)")
async def api_stats(request: Request) -> JSONResponse:
    from rag.store import Index

    st = state_of(request)

    def run() -> dict[str, object]:
        with Index.open(st.settings) as ix:
            return ix.stats()

    out, secs = await off_model(run)
    return timed(out, secs)


@router.get("/queue", summary="Requests on and waiting for the model")
async def api_queue(request: Request) -> dict[str, Any]:
    q = state_of(request).queue
    return {"running": q.running is not None, "waiting": len(q.line) - (1 if q.running else 0)}


# ---- writes: only with RAG_WEB_TOKEN ------------------------------------------------------------------
def require_token(request: Request) -> None:
    token = state_of(request).settings.web_token
    if token is None:
        raise Forbidden("writes are disabled: start rag web with RAG_WEB_TOKEN set to allow them")
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
        raise Unauthorized("missing or wrong token: send the header 'Authorization: Bearer RAG_WEB_TOKEN'")


class ArticleIn(BaseModel):
    id: str | None = None
    title: str = ""
    date: str | None = None
    url: str | None = None
    source: str | None = None
    text: str


class IngestIn(BaseModel):
    articles: list[ArticleIn] = Field(description="Records as in a .jsonl file for `rag ingest`.")


@router.post("/ingest", dependencies=[Depends(require_token)], summary="Ingest articles (as `rag ingest --json`)")
async def api_ingest(body: IngestIn, request: Request) -> JSONResponse:
    from rag.ingest import ingest

    st = state_of(request)

    def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="rag-web-") as d:
            src = Path(d) / "web.jsonl"
            src.write_text("".join(json.dumps(a.model_dump(exclude_none=True), ensure_ascii=False) + "\n"
                                   for a in body.articles), encoding="utf-8")
            report: dict[str, Any] = ingest([src], st.settings, embedder=st.embedder()).to_dict()
            return report

    out, secs = await off_model(run)
    return timed(out, secs, 200 if not out.get("rejected") else 422)


@router.delete("/articles/{article_id:path}", dependencies=[Depends(require_token)], summary="Remove an article")
async def api_remove(article_id: str, request: Request) -> JSONResponse:
    from rag.store import Index

    st = state_of(request)

    def run() -> list[str]:
        with Index.open(st.settings) as ix:
            ix.lock(timeout=st.settings.lock_timeout)
            return ix.remove([article_id])

    missing, secs = await off_model(run)
    if missing:
        raise NotFoundError(f"no article {article_id!r} in the index: list ids with /api/articles")
    return timed({"removed": [article_id]}, secs)


@router.get("/feeds", summary="Feeds with their last outcome (as `rag feeds list --json`)")
async def api_feeds(request: Request) -> JSONResponse:
    from rag.ingest.feeds import list_feeds

    st = state_of(request)
    out, secs = await off_model(lambda: {"feeds": [f.to_dict() for f in list_feeds(st.settings)]})
    return timed(out, secs)


class FeedIn(BaseModel):
    url: str
    name: str | None = None


@router.post("/feeds", dependencies=[Depends(require_token)], summary="Subscribe to a feed")
async def api_feed_add(body: FeedIn, request: Request) -> JSONResponse:
    from rag.ingest.feeds import add_feed

    st = state_of(request)
    (feed, new), secs = await off_model(lambda: add_feed(st.settings, body.url, body.name))
    return timed({"feed": feed.to_dict(), "added": new}, secs)


@router.delete("/feeds", dependencies=[Depends(require_token)], summary="Unsubscribe from feeds (by URL or name)")
async def api_feed_remove(request: Request, key: Annotated[list[str], Query()]) -> JSONResponse:
    from rag.ingest.feeds import remove_feeds

    st = state_of(request)
    gone, secs = await off_model(lambda: remove_feeds(st.settings, key))
    if not gone:
        raise NotFoundError(f"no feed {', '.join(key)!r}: list them with GET /api/feeds")
    return timed({"removed": [f.to_dict() for f in gone]}, secs)
