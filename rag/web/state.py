"""What the web app keeps for its life: the settings, one embedder and one model (loaded on first use, in
the model thread), the model queue, per-client rate counts, the spans it has cited, the briefs it wrote.

Library calls are made here, one function per face of the app, so that pages and the JSON API call the
same thing the CLI does (rag.answering.answer.ask, rag.summarise.digest.digest, rag.summarise.brief.brief, rag.check.check_text).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import InputError, RagError
from rag.models.embed import Embedder
from rag.models.llm import ChatModel
from rag.types import Answer, Brief, Citation, Digest
from rag.web.queue import Cancellable, ModelQueue, Ticket

MAX_SPANS = 200  # cited spans remembered per article (the article view shows them)
MAX_BRIEFS = 50  # briefs listed on the story page
MAX_SCAN = 20_000  # cache files read for the cited spans (once per server)
MAX_RESULTS = 64  # finished digests, briefs and checks kept for the page that shows them


class RateLimited(RagError):  # noqa: N818
    pass


class WebState:
    def __init__(self, settings: Settings, *, embedder: Embedder | None = None, llm: ChatModel | None = None) -> None:
        self.settings = settings
        self._embedder, self._llm = embedder, llm
        self._load = threading.Lock()
        self.queue = ModelQueue(settings.web_max_queue, settings.web_max_seconds)
        self.hits: dict[str, deque[float]] = defaultdict(deque)
        self.cited: dict[str, set[tuple[int, int, str]]] = defaultdict(set)
        self._scanned = False
        self.results: OrderedDict[str, Any] = OrderedDict()
        self._results = threading.Lock()
        self.briefs_file = Path(settings.index_dir) / "cache" / "web-briefs.json"

    # ---- the components, loaded once --------------------------------------------------------------------
    def embedder(self) -> Embedder:
        with self._load:
            if self._embedder is None:
                from rag.models.embed import make_embedder

                self._embedder = make_embedder(self.settings)
            return self._embedder

    def llm(self, t: Ticket, on_generated: Callable[[], None] | None = None) -> ChatModel:
        """The one model, behind the ticket's cancel flag (loads the local model on first use)."""
        with self._load:
            if self._llm is None:
                from rag.models.llm import LLM

                self._llm = LLM(self.settings)
        return Cancellable(self._llm, t.cancel, on_generated)

    # ---- limits -----------------------------------------------------------------------------------------
    def count_request(self, client: str) -> None:
        """Counts one model request of `client`; RateLimited beyond RAG_WEB_RATE_LIMIT in the last minute."""
        now = time.monotonic()
        hits = self.hits[client]
        while hits and now - hits[0] > 60:
            hits.popleft()
        if len(hits) >= self.settings.web_rate_limit:
            raise RateLimited(f"more than {self.settings.web_rate_limit} model requests in a minute from this "
                              "client (RAG_WEB_RATE_LIMIT): wait a minute")
        hits.append(now)

    # ---- the library calls (run in the model thread) ----------------------------------------------------
    def ask(self, t: Ticket, question: str, as_of: str | None, since: str | None, until: str | None,
            on_text: Callable[[str], None] | None = None, on_generated: Callable[[], None] | None = None) -> Answer:
        from rag.answering.answer import ask

        a = ask(question, self.settings, as_of=day(as_of, "as_of", date_type=True), since=day(since, "since"),
                until=day(until, "until"), embedder=self.embedder(), llm=self.llm(t, on_generated), on_text=on_text)
        self.remember(a.citations)
        return a

    def digest(self, t: Ticket, since: str, until: str | None = None) -> Digest:
        from rag.summarise.digest import digest, parse_day

        d = digest(self.settings, parse_day(since), parse_day(until) if until else None, embedder=self.embedder(),
                   llm=self.llm(t))
        self.remember([c for dd in d.days for s in dd.stories for c in s.citations])
        return d

    def brief(self, t: Ticket, topic: str, since: str | None, until: str | None,
              progress: Callable[[int, int, str], None] | None = None) -> Brief:
        from rag.summarise.brief import brief

        if not topic.strip():
            raise InputError("the topic is empty: name a story, e.g. \"Geneva peace talks\"")
        b = brief(topic, self.settings, since=day(since, "since"), until=day(until, "until"), embedder=self.embedder(),
                  llm=self.llm(t), progress=progress)
        self.remember([c for i in [*b.overview, *b.timeline, *b.conflicts] for c in i.citations])
        self._list_brief(b, since, until)
        return b

    def check(self, t: Ticket, text: str, lines: bool = False, article_ids: list[str] | None = None,
              since: str | None = None, until: str | None = None) -> Any:
        from rag.check import check_text

        r = check_text(text, self.settings, lines=lines, article_ids=article_ids or None, since=day(since, "since"),
                       until=day(until, "until"), embedder=self.embedder(), llm=self.llm(t))
        self.remember([c for s in r.statements for c in s.citations()])
        return r

    # ---- results a streamed request hands to the page that shows them (no second turn on the model) ----
    def keep(self, value: Any) -> str:
        """An unguessable id under which `value` stays for the page that shows it (the last MAX_RESULTS)."""
        rid = secrets.token_urlsafe(12)
        with self._results:
            self.results[rid] = value
            while len(self.results) > MAX_RESULTS:
                self.results.popitem(last=False)
        return rid

    def kept(self, rid: str) -> Any:
        with self._results:
            return self.results.get(rid)

    # ---- what was cited, what was briefed ---------------------------------------------------------------
    def remember(self, citations: list[Citation]) -> None:
        for c in citations:
            self._add(c.article_id, c.start, c.end, c.text)

    def _add(self, article_id: str, start: int, end: int, text: str) -> None:
        spans = self.cited[article_id]
        if len(spans) < MAX_SPANS:
            spans.add((start, end, text))

    def spans(self, article_id: str, text: str) -> set[tuple[int, int]]:
        """The spans of this article cited anywhere: by the digests and briefs in the index's caches (any run,
        the CLI's too) and by this server's answers and checks; only those still the article's text (an
        article changed since is cited at other offsets)."""
        with self._load:
            if not self._scanned:
                self._scan()
                self._scanned = True
        return {(a, b) for a, b, t in self.cited.get(article_id, set()) if text[a:b] == t}

    def _scan(self) -> None:
        def walk(x: Any) -> None:
            if isinstance(x, dict):
                if {"article_id", "start", "end", "text"} <= x.keys() and isinstance(x["start"], int) \
                        and isinstance(x["end"], int):
                    self._add(str(x["article_id"]), x["start"], x["end"], str(x["text"]))
                    return
                x = list(x.values())
            if isinstance(x, list):
                for v in x:
                    walk(v)

        for kind in ("digest", "brief"):
            for n, path in enumerate(sorted((Path(self.settings.index_dir) / "cache" / kind).rglob("*.json"))):
                if n >= MAX_SCAN:
                    break
                try:
                    walk(json.loads(path.read_text(encoding="utf-8")))
                except (OSError, ValueError):
                    continue

    def briefs(self) -> list[dict[str, Any]]:
        try:
            listed = json.loads(self.briefs_file.read_text(encoding="utf-8"))
            return [b for b in listed if isinstance(b, dict) and isinstance(b.get("topic"), str)]
        except (OSError, ValueError):
            return []

    def _list_brief(self, b: Brief, since: str | None, until: str | None) -> None:
        entry = {"topic": b.topic, "since": since or None, "until": until or None, "articles": len(b.articles),
                 "from": b.coverage.get("from"), "to": b.coverage.get("to")}
        listed = [x for x in self.briefs() if (x.get("topic"), x.get("since"), x.get("until")) != (b.topic, entry["since"], entry["until"])]
        try:
            self.briefs_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.briefs_file.with_name(f".{self.briefs_file.name}.{os.getpid()}")
            tmp.write_text(json.dumps([entry, *listed][:MAX_BRIEFS], ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.briefs_file)
        except OSError:
            pass  # a read-only index still answers; the list is a convenience


def day(value: str | None, name: str, date_type: bool = False) -> Any:
    """An optional YYYY-MM-DD field: None, the ISO string (or a date with date_type); InputError naming it."""
    if value is None or not str(value).strip():
        return None
    try:
        d = date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"{name} {value!r} is not a date: use YYYY-MM-DD") from None
    return d if date_type else d.isoformat()
