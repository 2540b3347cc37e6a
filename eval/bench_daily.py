"""Benchmark of the daily job against a real local HTTP server (tests/feedserver.py) serving Wikinews articles.

    python -m eval.bench_daily [--corpus ../shared/corpora/wikinews/articles.jsonl] [--day 2007-10-04] [--new 200]

1. `rag update` on `--new` new articles (the ones published before `--day`): half in two RSS feeds with full
   content, half in two Atom feeds of summaries whose article pages are fetched and extracted; then again
   (nothing new: one conditional request per feed).
2. `rag daily --date DAY` once the day's articles (12 on 2007-10-04) appear on the feeds: the update, the
   digest and the briefs of its developing stories with the configured model (the embedded one by default),
   and the site; then again (everything cached, nothing rewritten).

Each step runs the installed `rag` command in its own process; `RAG_FETCH_HOST_DELAY=0` (one local host: the
politeness delay would only add pages x delay). Writes eval/bench/daily.md and prints it. Timings are
reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.feedserver import NewsServer, atom, rss  # noqa: E402


def run(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.monotonic()
    r = subprocess.run([str(Path(sys.executable).parent / "rag"), *args], env=env, capture_output=True, text=True)
    return time.monotonic() - t0, r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpora" / "wikinews" / "articles.jsonl")
    ap.add_argument("--day", default="2007-10-04")
    ap.add_argument("--new", type=int, default=200)
    ap.add_argument("--out", type=Path, default=ROOT / "eval" / "bench" / "daily.md")
    ap.add_argument("--update-only", action="store_true", help="only step 1 (no model needed)")
    a = ap.parse_args()
    rows = [json.loads(line) for line in a.corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("date") and r.get("text")]
    before = sorted((r for r in rows if r["date"] < a.day), key=lambda r: (r["date"], r["id"]))[-a.new :]
    today = [r for r in rows if r["date"] == a.day]
    work = Path(tempfile.mkdtemp(prefix="bench-daily-"))
    env = {**os.environ, "RAG_INDEX_DIR": str(work / "index"), "RAG_FETCH_HOST_DELAY": "0", "HF_HUB_OFFLINE": "1"}
    news = NewsServer()
    results: list[tuple[str, float, str]] = []
    try:
        half = len(before) // 2
        full, summ = before[:half], before[half:]
        news.pages(before + today)  # every entry has its page (a short full-content entry is fetched too)
        feeds = {"/wire-1.xml": ("Wire 1", full[::2], "rss"), "/wire-2.xml": ("Wire 2", full[1::2], "rss"),
                 "/gazette-1.atom": ("Gazette 1", summ[::2], "atom"), "/gazette-2.atom": ("Gazette 2", summ[1::2], "atom")}

        def serve(extra: list[dict[str, str]], tag: str) -> None:
            for k, (path, (title, items, kind)) in enumerate(feeds.items()):
                more = extra[k::4]
                xml = rss(title, items + more, news.base) if kind == "rss" else atom(title, items + more, news.base)
                news.feed(path, xml, etag=f'"{tag}"')

        serve([], "a")
        for path, (title, _, _) in feeds.items():
            run(["feeds", "add", news.url(path), "--name", title], env)
        for label in (f"rag update: {len(before)} new articles", "rag update again: nothing new"):
            hits = len(news.hits)
            secs, r = run(["update", "--json"], env)
            rep = json.loads(r.stdout)
            note = (f"exit {r.returncode}; added {rep['ingest']['added']}, pages {rep['pages']}, "
                    f"{rep['unchanged_feeds']} feeds unchanged (304), {len(news.hits) - hits} requests")
            results.append((label, secs, note))
            print(f"| {label} | {secs:.1f} | {note} |", flush=True)
        if a.update_only:
            return _report(a, results)
        serve(today, "b")
        site = work / "site"
        for label in (f"rag daily --date {a.day}: {len(today)}-article day", "rag daily again (same day)"):
            hits = len(news.hits)
            secs, r = run(["daily", "--date", a.day, "--out", str(site), "--json"], env)
            rep = json.loads(r.stdout)
            note = (f"exit {r.returncode}; added {rep['update']['ingest']['added']}, {rep['stories']} stories, "
                    f"{rep['developing']} developing, {rep['briefs']} briefs, {len(rep['written'])} files written; "
                    f"steps (s): {rep['seconds']}; {len(news.hits) - hits} requests")
            results.append((label, secs, note))
            print(f"| {label} | {secs:.1f} | {note} |", flush=True)
    finally:
        news.close()
    _report(a, results)


def _report(a: argparse.Namespace, results: list[tuple[str, float, str]]) -> None:
    md = [f"Daily job benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, local HTTP server, "
          f"Wikinews up to {a.day}", "", "| step | seconds | detail |", "|---|---|---|"]
    md += [f"| {label} | {secs:.1f} | {note} |" for label, secs, note in results]
    text = "\n".join(md) + "\n"
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {a.out}")


if __name__ == "__main__":
    main()
