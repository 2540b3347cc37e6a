"""Publication dates read from article text: rag.ingest.dates.infer_date against dateparser's search_dates,
scored against the corpus's own dates (which the text never had to state).

    python -m eval.dates_measure --corpus ../shared/corpora/wikinews/articles.jsonl [--sample 600]

For each article: the date read from its text (the first 600 characters for dateparser, as infer_date's
dateline zone; dateparser told to prefer past dates relative to the article's day + 30 days, so it is not
handed the answer) is right (the article's day), wrong, or none. Also each reader's time per article.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import date, datetime, timedelta

from rag.ingest.dates import DATELINE_CHARS, infer_date


def by_dateparser(text: str, today: date) -> str | None:
    from dateparser.search import search_dates

    found = search_dates(text[:DATELINE_CHARS], languages=["en"], settings={
        "RELATIVE_BASE": datetime.combine(today, datetime.min.time()), "PREFER_DATES_FROM": "past",
        "REQUIRE_PARTS": ["day", "month", "year"]})
    return found[0][1].date().isoformat() if found else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--sample", type=int, default=600)
    args = ap.parse_args()
    with open(args.corpus, encoding="utf-8") as f:
        recs = [r for r in map(json.loads, f) if r.get("date")]
    recs = random.Random(7).sample(recs, min(args.sample, len(recs)))
    for name, read in (("infer_date", infer_date), ("dateparser", by_dateparser)):
        counts = {"right": 0, "wrong": 0, "none": 0}
        t0 = time.perf_counter()
        for r in recs:
            today = date.fromisoformat(r["date"]) + timedelta(days=30)
            got = read(r["text"], today)
            counts["none" if got is None else "right" if got == r["date"] else "wrong"] += 1
        ms = (time.perf_counter() - t0) / len(recs) * 1000
        print(json.dumps({"reader": name, "articles": len(recs), **counts, "ms_per_article": round(ms, 2)}), flush=True)


if __name__ == "__main__":
    main()
