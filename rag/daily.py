"""The daily job: update the feeds, digest the day, brief its developing stories, publish the site.

`daily(settings, out)` runs, in order, each step logged in one line (`log`):
1. update: `rag.ingest.feeds.update` (skipped with update_feeds=False); failing feeds and pages are
   reported and the rest lands;
2. digest: `rag.summarise.digest.digest` of the day (default: today), cached per story, so a second run the same
   day calls the model only for stories that changed;
3. briefs: for the day's developing stories (a story continuing one of the previous
   `digest_lookback_days` days), largest first, at most `daily_max_briefs`: `rag.summarise.brief.brief` on the story's
   headline over the lookback window up to the day (cached per article);
4. site: `rag.site.publish` into `out` (only changed files are rewritten; earlier days are never deleted).

Safe under a scheduler: one run at a time per site (a lock file in `out`, waiting up to `lock_timeout`),
the index's writer lock during the update, files replaced atomically, and `DailyReport.ok` false (exit
status 1) when anything failed, while everything that could be done was.

Not handled: refreshing earlier days' pages when late articles arrive for them (run with `--date` that day).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta
from pathlib import Path

from rag.config import Settings
from rag.errors import LockedError, StorageError
from rag.ingest.feeds import Progress, UpdateReport, update
from rag.ingest.fetch import Fetcher
from rag.models.embed import Embedder
from rag.models.llm import ChatModel, LazyLLM
from rag.site import DayBrief, SiteReport, publish


@dataclass
class DailyReport:
    date: str
    update: UpdateReport | None = None
    articles: int = 0
    stories: int = 0
    developing: int = 0
    briefs: int = 0
    site: SiteReport = field(default_factory=SiteReport)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.update is None or self.update.ok

    def to_dict(self) -> dict[str, object]:
        return {"date": self.date, "ok": self.ok, "update": self.update.to_dict() if self.update else None,
                "articles": self.articles, "stories": self.stories, "developing": self.developing,
                "briefs": self.briefs, "written": self.site.written, "unchanged": len(self.site.unchanged),
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


@contextmanager
def site_lock(out: Path, timeout: float, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """One `rag daily` at a time per site directory: a lock on OUT/.rag-daily.lock (filelock, as the index's)."""
    from filelock import FileLock, Timeout

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(f"cannot write the site at {out}: {e.strerror or e}; give a writable --out") from e
    lock = FileLock(out / ".rag-daily.lock", mode=0o644, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait:
            on_wait(f"another rag daily is writing {out}; waiting for it to finish")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise LockedError(f"another rag daily is writing {out} and still was after {timeout:.0f} s; "
                              "run again later (or raise RAG_LOCK_TIMEOUT)") from None
    except OSError as e:
        raise StorageError(f"cannot write the site at {out}: {e.strerror or e}; give a writable --out") from e
    try:
        yield
    finally:
        lock.release()


def daily(
    settings: Settings,
    out: Path,
    *,
    day: str | None = None,
    update_feeds: bool = True,
    llm: ChatModel | None = None,
    embedder: Embedder | None = None,
    fetcher: Fetcher | None = None,
    log: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> DailyReport:
    """Run the daily job for `day` (ISO date; default today) into the site directory `out` (module doc).
    Raises RagError for what stops the job (index, lock, model); failing feeds only make `ok` false."""
    from rag.models.embed import make_embedder
    from rag.store import Index
    from rag.summarise.brief import brief
    from rag.summarise.digest import digest, model_name, parse_day

    d = parse_day(day) if day else Date.today().isoformat()
    say = log or (lambda _msg: None)
    report = DailyReport(d)
    with site_lock(Path(out), settings.lock_timeout, on_wait):
        t = time.monotonic()
        if update_feeds:
            up = update(settings, embedder=embedder, fetcher=fetcher, progress=progress, on_wait=on_wait,
                        today=Date.fromisoformat(d))
            report.update = up
            report.seconds["update"] = time.monotonic() - t
            ing = up.ingest
            say(f"update: {up.feeds} feed(s), {up.unchanged_feeds} unchanged, {up.entries} entries "
                f"({up.skipped_entries} seen before), {up.pages} page(s) fetched; added {ing.added}, updated "
                f"{ing.updated}, duplicates {ing.duplicates}; {len(up.failed) + len(ing.rejected)} failed "
                f"({report.seconds['update']:.1f} s)")
        # started on its first call only; named as `rag digest` and `rag brief` key their caches, so the job and
        # the commands reuse each other's work
        model = llm or LazyLLM(settings, model_name(settings, None))
        t = time.monotonic()
        with Index.open(settings) as ix:
            embedder = embedder or make_embedder(settings)
            result = digest(settings, d, index=ix, embedder=embedder, llm=model)
        (today,) = result.days
        report.articles, report.stories = len(today.articles), len(today.stories)
        developing = [k for k, s in enumerate(today.stories) if s.continues is not None]
        report.developing = len(developing)
        report.seconds["digest"] = time.monotonic() - t
        say(f"digest {d}: {report.articles} article(s), {report.stories} stories, {report.developing} developing "
            f"({report.seconds['digest']:.1f} s)")
        t = time.monotonic()
        chosen = sorted(developing, key=lambda k: (-len(today.stories[k].article_ids), k))[: settings.daily_max_briefs]
        since = (Date.fromisoformat(d) - timedelta(days=settings.digest_lookback_days)).isoformat()
        briefs = []  # bounded: the first run of an unattended job makes one model call per article briefed
        brief_settings = settings.model_copy(
            update={"brief_max_articles": min(settings.brief_max_articles, settings.daily_brief_articles)})
        for n, k in enumerate(sorted(chosen), 1):
            briefs.append(DayBrief(k, brief(today.stories[k].headline, brief_settings, since=since, until=d,
                                            embedder=embedder, llm=model)))
            if progress:
                progress("briefs", n, len(chosen))
        report.briefs = len(briefs)
        report.seconds["briefs"] = time.monotonic() - t
        say(f"briefs: {report.briefs} written for {report.developing} developing stor"
            f"{'y' if report.developing == 1 else 'ies'} ({report.seconds['briefs']:.1f} s)")
        t = time.monotonic()
        report.site = publish(Path(out), today, result.articles, briefs, settings)
        report.seconds["site"] = time.monotonic() - t
        say(f"site: {len(report.site.written)} file(s) written, {len(report.site.unchanged)} unchanged in {out} "
            f"({report.seconds['site']:.1f} s)")
    return report
