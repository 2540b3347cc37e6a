"""Ingest: paths -> Articles -> (new, changed, unchanged, duplicate) -> chunks -> vectors -> index.

Streaming: inputs are read one file (one record) at a time and indexed in batches of
`settings.ingest_batch` articles, so memory stays bounded whatever the corpus size. Each batch is
chunked and embedded, then written atomically (rag.store): readers see each article's previous version
until its new one is committed, a killed run leaves only whole articles, and the next run reads again
what was not committed. Articles left `pending` by an older version are indexed first.

Failures: a batch that fails for another reason than the index itself (not StorageError, ConfigError,
LockedError) is retried article by article. When an article fails alone, the embedder and the vector
store are probed (one short text embedded, the vectors counted): if either fails, the service is down
and the run stops with the article's error; otherwise the article is listed in `rejected` with the error
and skipped, so one bad input never blocks the others or later runs. `FAILURES_IN_A_ROW` articles
failing one after another stop the run too.

Change detection: the content hash covers what the reader produced plus the run's --date/--source
overrides, and is taken *before* a date is inferred from the text, so an unchanged input is skipped
without any work (no embedding, no date inference), and an inferred date never drifts on re-ingest.

Duplicates: the same content under another id (exact hash), or a near-copy (MinHash, rag.ingest.dedup)
of an article already stored or earlier in this run, is recorded as a duplicate of the first and not
indexed. An article whose text changed replaces its old chunks.

File identity (ids from file names): a file is known by its real folder (symlinks and ".." resolved)
and its own name, so `news`, `../news` and a symlink to it reach the same articles. A second file with
the same name gets a path-hash suffix while the first file still exists. When the stored file is gone
(the folder was moved or renamed), a file of the same name whose text is the same or a near-copy
(dedup.is_copy) is the same article: it keeps the id and the store records its new path; a file of that
name with other text is another article.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date as Date
from pathlib import Path

from rag.chunk import chunk_article, embed_text
from rag.config import Settings
from rag.errors import ConfigError, LockedError, RagError, StorageError
from rag.ingest import dedup
from rag.ingest.dates import infer_date
from rag.ingest.readers import MAX_BYTES, Rejection, read_path, short_hash
from rag.models.embed import Embedder, make_embedder
from rag.store import Index
from rag.types import Article

_STEM_ID_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".html", ".htm"}
FAILURES_IN_A_ROW = 3  # articles failing one after another: the service is down, not the inputs bad
_SYSTEMIC = (StorageError, ConfigError, LockedError)  # the index itself: retrying article by article is no help


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    # Not in the JSON contract; shown by the terminal output and on stderr with --json.
    undated: list[str] = field(default_factory=list)  # ids stored with no date (none given or inferable)
    duplicate_of: dict[str, str] = field(default_factory=dict)  # duplicate id -> id of the first copy
    embedded_chunks: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "duplicates": self.duplicates, "rejected": self.rejected, "articles": self.articles,
            "chunks": self.chunks,
        }


def content_hash(a: Article) -> str:
    h = hashlib.sha256()
    for part in (a.title, a.text, a.date or "", a.date_source, a.url or "", a.source or "", a.author or ""):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def canonical(f: Path) -> Path:
    """The file in its real folder (symlinks and ".." resolved), under its own name: how one file is known
    however the path to it was spelled (a symlinked file keeps its link's name, which gives its id)."""
    return f.absolute().parent.resolve() / f.name


def iter_files(paths: Iterable[Path], report: IngestReport, skip: Path | None = None) -> Iterator[Path]:
    """Files under the given paths (folders recursively, hidden names and the `skip` folder -- the index
    itself -- left out), canonical (see `canonical`), in order."""
    skip = skip.resolve() if skip is not None else None
    for p in paths:
        try:
            if p.is_dir():
                found = sorted(f for f in p.rglob("*")
                               if not any(part.startswith(".") for part in f.relative_to(p).parts)
                               and (skip is None or not f.resolve().is_relative_to(skip)) and f.is_file())
                yield from (canonical(f) for f in found)
            elif p.is_file():
                yield canonical(p)
            elif p.exists():
                report.rejected.append({"path": str(p), "reason": "not a regular file or folder"})
            else:
                report.rejected.append({"path": str(p), "reason": "no such file or directory"})
        except OSError as e:
            report.rejected.append({"path": str(p), "reason": f"cannot read: {e.strerror or e}"})


def read_articles(paths: Iterable[Path], report: IngestReport, max_bytes: int = MAX_BYTES,
                  skip: Path | None = None) -> Iterator[Article]:
    """Articles from files and folders, as the readers produce them; bad inputs go to report.rejected."""
    for _, a in read_files(paths, report, max_bytes, skip):
        yield a


def read_files(paths: Iterable[Path], report: IngestReport, max_bytes: int = MAX_BYTES,
               skip: Path | None = None) -> Iterator[tuple[Path, Article]]:
    """(file, article) pairs from files and folders; bad inputs are added to report.rejected."""
    for f in iter_files(paths, report, skip):
        for item in read_path(f, max_bytes):
            if isinstance(item, Rejection):
                report.rejected.append({"path": item.path, "reason": item.reason})
            else:
                yield f, item


@dataclass
class _Batch:
    items: list[tuple[Article, str]] = field(default_factory=list)
    signatures: dict[str, tuple[bytes, list[int]]] = field(default_factory=dict)
    sigs: dict[str, object] = field(default_factory=dict)  # id -> numpy signature, for in-batch lookup
    hashes: dict[str, str] = field(default_factory=dict)  # content hash -> id
    texts: dict[str, str] = field(default_factory=dict)  # id -> text, for the exact near-duplicate check
    dups: list[tuple[Article, str, str, float]] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # id -> "added" | "updated", as counted in the report

    def ids(self) -> set[str]:
        return {a.id for a, _ in self.items}


class _Run:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings, report: IngestReport,
                 progress: Callable[[int, int], None] | None) -> None:
        self.index, self.embedder, self.settings, self.report = index, embedder, settings, report
        self.progress = progress
        self.batch = _Batch()
        self.seen = 0
        self.run_ids: dict[str, str] = {}  # article id -> path, for stem collisions within this run
        self.moved: dict[str, str] = {}  # article id -> its file's new path, when the stored file is gone
        self.failures = 0  # articles that failed to index one after another (module doc)
        self.any_suffix = False  # ids from the names of files of any type (documents read by other tools)

    def flush(self) -> None:
        b = self.batch
        self.batch = _Batch()
        if b.items:
            self.write(b.items, b.signatures, b.kinds)
        for a, h, first, sim in b.dups:
            if self.index.has_article(a.id, any_status=True):
                self.index.remove([a.id])  # it changed into a copy of another article: its old text goes
            self.index.record_duplicate(a, h, first, sim)
        if self.progress:
            self.progress(self.seen, self.report.embedded_chunks)

    def write(self, items: list[tuple[Article, str]], signatures: dict[str, tuple[bytes, list[int]]] | None,
              kinds: dict[str, str]) -> None:
        """index_batch, or article by article when the batch fails (module doc, Failures)."""
        try:
            index_batch(self.index, self.embedder, items, self.settings, signatures, self.report)
            self.failures = 0
            return
        except _SYSTEMIC:
            raise
        except Exception as e:  # the embedder or Chroma failed for something in this batch
            if len(items) == 1:
                self._skip(items[0][0], e, kinds)
                return
        for a, h in items:
            one = {a.id: signatures[a.id]} if signatures and a.id in signatures else None
            try:
                index_batch(self.index, self.embedder, [(a, h)], self.settings, one, self.report)
                self.failures = 0
            except _SYSTEMIC:
                raise
            except Exception as e:
                self._skip(a, e, kinds)

    def _skip(self, a: Article, e: Exception, kinds: dict[str, str]) -> None:
        """Report an article that could not be indexed (nothing of it was written), or stop the run."""
        self.failures += 1
        detail = (str(e).splitlines() or [""])[0][:300] or e.__class__.__name__
        if self.failures >= FAILURES_IN_A_ROW or not self._services_work():
            if isinstance(e, RagError):
                raise e
            raise RagError(f"indexing failed for {self.failures} articles in a row ({e.__class__.__name__}: "
                           f"{detail}); nothing of them was written; fix the cause and run again") from e
        self.report.rejected.append({"path": a.path or a.id, "reason": (
            f"could not be indexed ({detail}); skipped, nothing of it was written and the other articles "
            "were indexed; run again once the cause is fixed")})
        kind = kinds.pop(a.id, None)
        if kind == "added":
            self.report.added -= 1
        elif kind == "updated":
            self.report.updated -= 1
        if a.id in self.report.undated:
            self.report.undated.remove(a.id)

    def _services_work(self) -> bool:
        """Whether the embedder and the vector store answer at all (module doc, Failures)."""
        try:
            self.embedder.embed(["rag ingest: is the embedder alive?"])
            with self.index._chroma("count vectors"):
                self.index.collection.count()
        except Exception:  # any failure here means the service, not the article
            return False
        return True

    def add(self, a: Article, h: str) -> None:
        """Classify one article (whose content hash was taken before date inference) and queue it."""
        report, index, b = self.report, self.index, self.batch
        if a.id in b.ids() or any(d[0].id == a.id for d in b.dups):
            self.flush()  # the same id twice in one run: the later version wins, as an update
            b = self.batch
        old = index.content_hash(a.id)
        if old == h or index.duplicate_hash(a.id) == h:
            report.unchanged += 1
            if a.id in self.moved:  # the same article in its new place: remember where it is now
                index.set_path(a.id, self.moved[a.id])
            return
        first = b.hashes.get(h) or index.id_for_hash(h)
        if first is not None and first != a.id:
            self._duplicate(a, h, first, 1.0)
            return
        sig = dedup.signature(a.text)
        best, best_sim = None, 0.0
        keys = dedup.band_keys(sig)
        candidates = dict(index.near_candidates(keys))
        for cid, csig in b.sigs.items():
            candidates[cid] = csig  # type: ignore[assignment]
        for cid, blob in sorted(candidates.items()):
            if cid == a.id:
                continue
            other = dedup.from_blob(blob) if isinstance(blob, bytes) else blob
            if dedup.similarity(sig, other) < dedup.CANDIDATE:
                continue
            text = b.texts.get(cid) or index.text_of(cid)
            sim = dedup.copy_similarity(a.text, text) if text is not None else None
            if sim is not None and sim > best_sim:
                best, best_sim = cid, sim
        if best is not None:
            self._duplicate(a, h, best, best_sim)
            return
        if old is None:
            report.added += 1
        else:
            report.updated += 1
        b.kinds[a.id] = "added" if old is None else "updated"
        if a.date is None:
            report.undated.append(a.id)
        b.items.append((a, h))
        b.signatures[a.id] = (dedup.to_blob(sig), keys)
        b.sigs[a.id] = sig
        b.texts[a.id] = a.text
        b.hashes[h] = a.id
        if len(b.items) >= self.settings.ingest_batch:
            self.flush()

    def _duplicate(self, a: Article, h: str, first: str, sim: float) -> None:
        self.report.duplicates += 1
        self.report.duplicate_of[a.id] = first
        self.batch.dups.append((a, h, first, sim))

    def stable_id(self, f: Path, a: Article) -> Article:
        """Ids from file stems: a second, different file with the same stem gets a path-hash suffix; a
        file whose stored one is gone, with the same name and text, keeps the id (module doc)."""
        if (f.suffix.lower() not in _STEM_ID_SUFFIXES and not self.any_suffix) or a.id != f.stem:
            return a
        path = str(f)
        in_run = self.run_ids.get(a.id)
        owner = in_run or self.index.path_of(a.id)
        if owner is not None and owner != path and not self._same_file(owner, f, a, in_run is not None):
            a = replace(a, id=f"{a.id}-{short_hash(path, 8)}")
        self.run_ids.setdefault(a.id, path)
        return a

    def _same_file(self, owner: str, f: Path, a: Article, this_run: bool) -> bool:
        """Whether `f` is the file stored (or seen this run) at `owner` under the id a.id, reached by
        another path, or moved there (module doc)."""
        old = Path(owner)
        if not old.is_absolute():  # stored by a version that kept relative paths
            return old.name == f.name
        try:
            if old.exists():
                return os.path.samefile(old, f)
        except OSError:
            return False
        if this_run or old.name != f.name:
            return False
        text = self.index.text_of(a.id)
        if text is None or text == a.text or dedup.is_copy(a.text, text):  # (None: only a duplicate was stored)
            self.moved[a.id] = str(f)
            return True
        return False


class _LazyEmbedder:
    """Builds the real embedder (and checks it against the index) only when something must be embedded,
    so that re-ingesting unchanged inputs loads no model."""

    def __init__(self, settings: Settings, index: Index, given: Embedder | None) -> None:
        self._settings, self._index, self._real = settings, index, given
        self._checked = False

    def _get(self) -> Embedder:
        if self._real is None:
            self._real = make_embedder(self._settings)
        if not self._checked:
            try:
                self._index.check_embedder(self._real.name, write=True)
            except RagError:
                raise
            except Exception as e:  # a read-only or full disk, a server gone
                raise self._index.db.fail(e) from e
            self._checked = True
        return self._real

    def check_early(self) -> None:
        """Refuse a mismatched embedder before reading anything, when its name is known without loading."""
        from rag.models.embed import OnnxMiniLM

        known = self._real.name if self._real is not None else None
        if known is None and not self._settings.embed_base_url:
            known = OnnxMiniLM.name
        if known is not None and self._index.get_meta("embed_model") is not None:
            self._index.check_embedder(known, write=False)

    @property
    def name(self) -> str:
        return self._get().name

    @name.setter
    def name(self, value: str) -> None:  # the Embedder protocol declares a plain attribute
        raise AttributeError("the embedder name is fixed")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._get().embed(texts)


def index_batch(index: Index, embedder: Embedder, batch: list[tuple[Article, str]], settings: Settings,
                signatures: dict[str, tuple[bytes, list[int]]] | None = None,
                report: IngestReport | None = None) -> None:
    """Chunk and embed (nothing is written before the vectors exist), then write the batch atomically
    (Index.write_articles: the previous versions stay readable until the new ones are committed)."""
    by_id = {a.id: a for a, _ in batch}
    chunks = [c for a, _ in batch for c in chunk_article(a, settings.chunk_chars)]
    vectors = embedder.embed([embed_text(by_id[c.article_id], c) for c in chunks])
    index.write_articles(batch, chunks, vectors, signatures)
    if report is not None:
        report.embedded_chunks += len(chunks)


def ingest(
    paths: Iterable[Path | str],
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    date: str | None = None,
    source: str | None = None,
    today: Date | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> IngestReport:
    """Read, chunk, embed and store articles; returns what happened. Never raises for bad inputs:
    they are listed in `rejected` and the good ones still land.

    paths: files, folders, and http(s) URLs (a feed: its entries, with the linked page fetched for those
    that carry only a summary; a page: its article, by trafilatura; see rag.ingest.feeds).
    date / source: override every article's date (date_source "flag") / source for this run.
    today: the reference day for inferring dates from weekdays (default: the real today).
    progress(articles_read, chunks_embedded) is called after each article read and each batch stored.
    on_wait(message) is called once if another run holds the index and this one waits for it.
    Raises StorageError (index not writable, disk full), LockedError (waited RAG_LOCK_TIMEOUT),
    ConfigError (another embedding model built this index).
    """
    from rag.ingest.fetch import is_url

    report = IngestReport()
    urls = [str(p) for p in paths if isinstance(p, str) and is_url(p)]
    files = [Path(p) for p in paths if not (isinstance(p, str) and is_url(p))]
    with Index.open(settings, create=True) as index:
        index.lock(timeout=settings.lock_timeout, on_wait=on_wait)

        def items() -> Iterator[tuple[Path | None, Article]]:
            yield from read_files(files, report, settings.max_input_bytes, index.dir)
            if urls:
                from rag.ingest.feeds import read_urls

                for a in read_urls(urls, settings, report, today=today):
                    yield None, a

        return ingest_into(index, items(), settings, embedder, progress, report, date=date, source=source,
                           today=today)


def ingest_articles(
    articles: Iterable[tuple[Path | None, Article] | Article],
    settings: Settings,
    embedder: Embedder | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    date: str | None = None,
    source: str | None = None,
    today: Date | None = None,
    on_wait: Callable[[str], None] | None = None,
    rejected: Iterable[dict[str, str]] = (),
) -> IngestReport:
    """`ingest` for articles made elsewhere (rag.integrations.llamaindex turns LlamaIndex Documents into
    them): the same ids, dates, duplicates and updates. An article may come with the file it was read from,
    whose path then settles a clash of file-name ids as for files (a path-hash suffix), whatever its type. `rejected`: inputs
    the caller could not turn into articles, listed in the report."""
    report = IngestReport(rejected=list(rejected))
    items = (x if isinstance(x, tuple) else (None, x) for x in articles)
    with Index.open(settings, create=True) as index:
        index.lock(timeout=settings.lock_timeout, on_wait=on_wait)
        return ingest_into(index, items, settings, embedder, progress, report, date=date, source=source,
                           today=today, any_suffix=True)


def ingest_into(
    index: Index,
    items: Iterable[tuple[Path | None, Article]],
    settings: Settings,
    embedder: Embedder | None,
    progress: Callable[[int, int], None] | None,
    report: IngestReport,
    *,
    date: str | None = None,
    source: str | None = None,
    today: Date | None = None,
    any_suffix: bool = False,
) -> IngestReport:
    """`ingest` on an index this run has opened and locked: (file, article) pairs (file None for articles
    that come from the web: their ids are their own, not file stems). Fills and returns `report`."""
    ref = today or Date.today()
    lazy = _LazyEmbedder(settings, index, embedder)
    lazy.check_early()
    run = _Run(index, lazy, settings, report, progress)
    run.any_suffix = any_suffix
    recovered = index.pending_articles()  # left by an older version's killed run
    if recovered:
        index.delete_chunks([a.id for a, _ in recovered])  # their vectors may be in Chroma without rows
    for i in range(0, len(recovered), settings.ingest_batch):
        run.write(recovered[i : i + settings.ingest_batch], None, {})
    run.failures = 0
    for f, article in items:
        run.seen += 1
        a = run.stable_id(f, article) if f is not None else article
        if source is not None:
            a = replace(a, source=source)
        if date is not None:
            a = replace(a, date=date, date_source="flag")
        h = content_hash(a)
        if a.date is None:
            inferred = infer_date(a.text, ref)
            if inferred:
                a = replace(a, date=inferred, date_source="text")
        run.add(a, h)
        if progress:
            progress(run.seen, report.embedded_chunks)
    run.flush()
    report.articles, report.chunks = index.counts()
    return report
