"""Index consistency check, run as `python -m tests.index_check INDEX_DIR` in a fresh process (so no
in-process Chroma cache hides what is on disk). Prints JSON: {"problems": [...], counts...}.

Consistent means: every article is `pending` or `indexed`; an indexed article has exactly the chunks its
text yields (rows in SQLite, each with its vector in Chroma, n_chunks, its MinHash signature); every vector
in Chroma is a chunk row's or is logged as not (yet) owned (`unowned`: staged by a write that had not
committed, or replaced/removed and not yet deleted), so no reader can mistake it for a live chunk; and
`Index.stats()` matches raw SQL. Pending articles (left by an older version's killed run) may have any
subset of their chunks.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path


def check(index_dir: Path) -> dict[str, object]:
    from rag.chunk import chunk_article
    from rag.config import Settings
    from rag.store import Index, _article_from_row

    problems: list[str] = []
    settings = Settings(index_dir=index_dir)
    db = sqlite3.connect(index_dir / "articles.sqlite")
    db.row_factory = sqlite3.Row
    if db.execute("SELECT 1 FROM sqlite_master WHERE name='articles'").fetchone() is None:
        return {"problems": [], "indexed": 0, "pending": 0, "chunks": 0, "chroma": 0, "unowned": 0, "stats": {}}
    rows = db.execute("SELECT * FROM articles").fetchall()
    status = {r["id"]: r["status"] for r in rows}
    if set(status.values()) - {"pending", "indexed"}:
        problems.append(f"unknown statuses {set(status.values())}")
    chunk_rows: dict[str, dict[str, int]] = {}
    for cid, aid, idx in db.execute("SELECT id, article_id, idx FROM chunks"):
        chunk_rows.setdefault(aid, {})[cid] = idx
    has_log = db.execute("SELECT 1 FROM sqlite_master WHERE name='unowned'").fetchone() is not None
    unowned = {r[0] for r in db.execute("SELECT chunk_id FROM unowned")} if has_log else set()
    owned = {cid for ids in chunk_rows.values() for cid in ids}
    sigs = {r[0] for r in db.execute("SELECT article_id FROM minhash")}
    with Index.open(settings) as ix:
        got = ix.collection.get(include=["metadatas"])
        chroma: dict[str, set[str]] = {}
        for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
            chroma.setdefault(meta["article_id"], set()).add(cid)
        for r in rows:
            if r["status"] != "indexed":
                continue
            a = _article_from_row(r)
            want = {c.index for c in chunk_article(a, settings.chunk_chars)}
            mine = chunk_rows.get(a.id, {})
            if sorted(mine.values()) != sorted(want):
                problems.append(f"{a.id}: chunk rows {sorted(mine.values())} != {sorted(want)} expected")
            if set(mine) - chroma.get(a.id, set()):
                problems.append(f"{a.id}: {len(set(mine) - chroma.get(a.id, set()))} chunk(s) without a vector")
            if r["n_chunks"] != len(want):
                problems.append(f"{a.id}: n_chunks {r['n_chunks']} != {len(want)}")
            if a.id not in sigs:
                problems.append(f"{a.id}: no MinHash signature")
        for aid, ids in chroma.items():
            stray = ids - owned - unowned
            if stray and status.get(aid) != "pending":
                problems.append(f"{aid}: {len(stray)} vector(s) neither a chunk's nor logged as unowned")
        if unowned & owned:
            problems.append(f"{len(unowned & owned)} chunk(s) both owned and logged as unowned")
        st = ix.stats()
    n_indexed = sum(1 for s in status.values() if s == "indexed")
    n_chunks = sum(r["n_chunks"] for r in rows if r["status"] == "indexed")
    if (st["articles"], st["chunks"]) != (n_indexed, n_chunks):
        problems.append(f"stats {st['articles']}/{st['chunks']} != store {n_indexed}/{n_chunks}")
    return {"problems": problems, "indexed": n_indexed, "pending": len(status) - n_indexed,
            "chunks": n_chunks, "chroma": sum(len(v) for v in chroma.values()), "unowned": len(unowned),
            "stats": st}


if __name__ == "__main__":
    print(json.dumps(check(Path(sys.argv[1]))))
