"""Build and check eval/gold/claims.jsonl: labelled (claim, evidence) pairs that grade a citation verifier.

Standard library only; the Wikinews corpus path is passed on the command line. Sub-commands:

  python eval/claims_build.py pick CORPUS                  # the sampled article ids, stratified by year
  python eval/claims_build.py show CORPUS ID [ID ...]      # articles as numbered sentences, to write claims from
  python eval/claims_build.py reldate CORPUS               # sentences with "yesterday", "on Tuesday", "last month"...
  python eval/claims_build.py auto CORPUS USED_IDS_FILE    # draft lines for the script-built kinds (verbatim, unrelated)
  python eval/claims_build.py assemble CORPUS DRAFT ... > eval/gold/claims.jsonl
  python eval/claims_build.py check CORPUS [eval/gold/claims.jsonl]   # validate; prints counts; exit 1 on any error

How the file was made: `pick` sampled articles over 2004-2017, `show` printed them, and the paraphrase, summary,
name, number, date, negation and role claims were written by hand into drafts; `auto` proposed verbatim sentences
and unrelated pairs (a sentence of another article from within 60 days sharing the most content words), which
were reviewed (bad ones dropped, some verbatim shortened by deleting words). Over-represented kinds were then
thinned at random (seed below), always from the article with the most claims, and every remaining claim was
re-read against its evidence. The drafts are not kept: claims.jsonl is the source of truth, `check` its guard.

That first round made c0001-c0683 (683 claims, 357 articles). A second round by a separate author appended
c0684-c0894 (211 claims: paraphrase 82, summary 31, role 37, negation 38, name 5, number 10, date 8) over 70
articles of 2004-2018 that neither claims.jsonl nor any .jsonl gold question set used, at most 4 claims an article,
drafted in the same format from `show` and built with `assemble` (ids renumbered to follow c0683); no verbatim or
unrelated claims, and nothing thinned. A third round (session 12, another separate author, blind: no one ran the
verifier on it before the first measurement) appended c0895-c1117 (223 claims: paraphrase 79, summary 23, negation 38,
role 38, name 15, number 15, date 15) over 74 articles of 2005-2008 that no gold file used, the same way (assembled,
then renumbered to follow c0894). A fourth round (session 13, another separate author, blind in the same way)
appended c1118-c1337 (220 claims: verbatim 15, paraphrase 80, summary 25, negation 25, role 35, name 14, number 13,
date 13) over 74 articles of 2005 and 2007 that no gold file used; its author split by article with
random.Random(9091) (the first 40% of the shuffled articles tune). A fifth round (session 14, another separate
author, blind) appended c1338-c1546 (209 claims: paraphrase 75, summary 30, negation 30, role 35, name 13, number 13,
date 13) over 70 articles of 2006 and 2004 that no gold file used, split by article with random.Random(7373). A
sixth round (session 15, another separate author, blind) appended c1547-c1755 (209 claims: paraphrase 75, summary 30,
negation 30, role 35, name 13, number 13, date 13) over 70 articles of 2007, 2008 and 2009 that no gold file used,
split by article with random.Random(8181). A seventh round (session 16, another separate author, blind) appended
c1756-c1964 (209 claims: paraphrase 75, summary 30, negation 30, role 35, name 13, number 13, date 13) over 70
articles of 2010, 2011, 2012 and 2013 that no gold file used, split by article with random.Random(9393). An eighth
round (another separate author, blind: the verifier was not run on it) appended c1965-c2222 (258 claims: verbatim 10,
paraphrase 102, summary 46, negation 25, role 25, name 16, number 17, date 17; tags: paraphrase [reldate] 28, date
[reldate] 8, name [subject] 6) over 68 articles of 2009 that no gold file used (no unused article of 2014-2017 was
left), at most 4 claims an article, drafted from `show`, assembled, renumbered to follow c1964 and set to tune.
Round 8 is all tune because the tune part of rounds 1-7 is exhausted: it had been fitted over many sessions (the
verifier kept 0.98 of its tune paraphrases but 0.89 of test ones), so round 8 is fresh data to tune on; test stays
rounds 1-7's test part, unchanged. A ninth round (another separate author, blind: the verifier was not run on it)
appended c2223-c2423 (201 claims: verbatim 9, paraphrase 80, summary 36, negation 20, role 20, name 12, number 12,
date 12; tags: paraphrase [reldate] 23, date [reldate] 6, name [subject] 10) over 55 articles of 2004-2011 (2004 2,
2005 9, 2006 10, 2007 9, 2008 9, 2009 7, 2010 8, 2011 1; no unused article of 2012-2018 had 8 sentences) that no
gold file used, sampled by year with random.Random(9696), at most 4 claims an article, drafted from `show`,
assembled and renumbered to follow c2222; split by article like rounds 5-7 with random.Random(9797), 22 of 55 tune.
A tenth round (another separate author, blind: the verifier was not run on it) appended c2424-c2624 (201 claims:
verbatim 9, paraphrase 80, summary 36, negation 20, role 20, name 12, number 12, date 12; tags: paraphrase [reldate]
22, date [reldate] 5, name [subject] 9) over 55 articles of 2004-2011 (2004 2, 2005 10, 2006 17, 2007 9, 2008 10,
2009 4, 2010 2, 2011 1) that no gold file used (every wikinews id named anywhere in eval/gold/ excluded), sampled by
year with random.Random(10101) from those with at least 8 sentences (2004 and 2011 had none left, so their 3
articles have 7), skipping debris, lists and quote-heavy pieces, at most 4 claims an article, drafted from `show`,
assembled, renumbered to follow c2423 and set to tune: like round 8, it is fresh data to tune on.
The file now holds 2624 claims.

Drafts are text files: a line "@wikinews-NNNN" opens an article, then one claim a line:
"KIND I[-J] | claim | note", where I..J (inclusive, 0-based, at most 3 sentences) are sentence numbers as `show`
prints them; the evidence is those whole sentences, cut from the article text. Lines starting "#" are comments.
`assemble` numbers the claims, derives the label from the kind and the split from the article.

Sentences are split by rag.chunk.sentences itself, so evidence spans are whole sentences as the index cuts
them (run it from a source checkout with the project installed).

Split, by article, per round (`ROUNDS`): rounds 1-3 "tune" when random.Random(f"{SEED}/{article_id}").random()
< 0.4, else "test"; rounds 4-7 by their authors' shuffles of the round's article ids (round 4: sorted by
number, random.Random(9091), the first 30 of 74 tune; round 5: sorted as text, random.Random(7373), the first
int(0.4 n) tune; round 6: the same with random.Random(8181), 28 of 70 tune; round 7: the same with
random.Random(9393), 28 of 70 tune); round 8 all tune; round 9 as round 5 with random.Random(9797), 22 of 55
tune; round 10 all tune. `check` recomputes each rule.
Round 4 trimmed page debris ("<br> right") off the start of 17 evidence spans, so `check` asks that evidence lie
within 1-3 consecutive sentences, not that it be whole ones.
Note tags counted by `check`: "[reldate]" (a relative date in the evidence resolved against the article's
publication date: rightly for paraphrase, wrongly for date) and "[subject]" (name claims whose swapped name is
the claim's first words).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from rag.chunk import sentences  # the evidence must be whole sentences as the index cuts them

SEED = 4406
TUNE_SHARE = 0.4
KINDS = {
    "verbatim": "supported", "paraphrase": "supported", "summary": "supported",
    "name": "unsupported", "number": "unsupported", "date": "unsupported", "negation": "unsupported",
    "role": "unsupported", "unrelated": "unsupported",
}
MINIMUM = {"verbatim": 60, "paraphrase": 90, "summary": 40, "name": 55, "number": 50, "date": 45,
           "negation": 45, "role": 45, "unrelated": 40}
TAG_MINIMUM = {("paraphrase", "[reldate]"): 15, ("date", "[reldate]"): 12, ("name", "[subject]"): 25}
MIN_ARTICLES = 200
KEYS = ["id", "kind", "label", "claim", "article_id", "evidence", "split", "note"]
# Articles per year for `pick` (2018 has 2 articles and is left out).
YEAR_QUOTA = {2004: 12, 2005: 34, 2006: 34, 2007: 34, 2008: 30, 2009: 24, 2010: 22, 2011: 16, 2012: 12,
              2013: 10, 2014: 7, 2015: 6, 2016: 8, 2017: 6}

# --- sentences: split exactly as the index splits them ----------------------------------------------


# --- helpers -----------------------------------------------------------------------------------------
def load(corpus: str) -> dict[str, dict]:
    with open(corpus, encoding="utf-8") as f:
        return {a["id"]: a for a in map(json.loads, f)}


def split_of(article_id: str) -> str:
    return "tune" if random.Random(f"{SEED}/{article_id}").random() < TUNE_SHARE else "test"


# Each round's first and last claim id and how its articles were split (module doc): None is split_of; "tune" puts
# every article of the round in tune; else (seed, sort key of the article ids, how many of n are tune).
ROUNDS: list[tuple[str, str, tuple[int, Callable[[str], Any], Callable[[int], int]] | str | None]] = [
    ("c0001", "c1117", None),
    ("c1118", "c1337", (9091, lambda a: int(a.split("-")[1]), lambda n: round(TUNE_SHARE * n))),
    ("c1338", "c1546", (7373, str, lambda n: int(TUNE_SHARE * n))),
    ("c1547", "c1755", (8181, str, lambda n: int(TUNE_SHARE * n))),
    ("c1756", "c1964", (9393, str, lambda n: int(TUNE_SHARE * n))),
    ("c1965", "c2222", "tune"),  # round 8: every article tune (module doc)
    ("c2223", "c2423", (9797, str, lambda n: int(TUNE_SHARE * n))),
    ("c2424", "c2624", "tune"),  # round 10: every article tune, fresh data to tune on (module doc)
]


def splits(recs: list[dict]) -> dict[str, str]:
    """The split each claim's article should have, by claim id, recomputed from its round's rule."""
    out: dict[str, str] = {}
    for first, last, rule in ROUNDS:
        mine = [r for r in recs if first <= r["id"] <= last]
        if rule is None:
            out.update({r["id"]: split_of(r["article_id"]) for r in mine})
            continue
        if isinstance(rule, str):  # "tune": the whole round is tune
            out.update({r["id"]: "tune" for r in mine})
            continue
        seed, order, tune = rule
        arts = sorted({r["article_id"] for r in mine}, key=order)
        random.Random(seed).shuffle(arts)
        first_tune = set(arts[: tune(len(arts))])
        out.update({r["id"]: "tune" if r["article_id"] in first_tune else "test" for r in mine})
    return out


def weekday(iso: str) -> str:
    return dt.date.fromisoformat(iso).strftime("%A")


WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.,%$£€-]*")


def words(text: str) -> list[str]:
    return [w.strip(".,").lower() for w in WORD.findall(text)]


def is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(w == b for b in it) for w in small)


# --- pick / show / reldate ---------------------------------------------------------------------------
def pick(arts: dict[str, dict]) -> list[str]:
    """Articles stratified by year (quota per year), long enough to hold a few sentences, seeded."""
    by_year: dict[int, list[str]] = defaultdict(list)
    for a in arts.values():
        if len(sentences(a["text"])) >= 5:
            by_year[int(a["date"][:4])].append(a["id"])
    rnd = random.Random(SEED)
    out: list[str] = []
    for year, n in sorted(YEAR_QUOTA.items()):
        ids = sorted(by_year[year])
        out += rnd.sample(ids, min(n, len(ids)))
    return out


def show(arts: dict[str, dict], ids: list[str]) -> None:
    for i in ids:
        a = arts[i]
        print(f"@{i}  {a['date']} ({weekday(a['date'])})  {a['title']}")
        for n, (s, e) in enumerate(sentences(a["text"])):
            print(f"  {n:2d} {a['text'][s:e]}")
        print()


RELDATE = re.compile(r"\b(yesterday|last (?:week|month|year)|(?:on|last) (?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)\b")


def reldate(arts: dict[str, dict]) -> None:
    for a in sorted(arts.values(), key=lambda a: a["date"]):
        for n, (s, e) in enumerate(sentences(a["text"])):
            sent = a["text"][s:e]
            if RELDATE.search(sent) and n > 0:
                print(f"{a['id']}\t{a['date']} {weekday(a['date'])[:3]}\t{n}\t{sent}")


# --- auto: script-built drafts for verbatim and unrelated --------------------------------------------
STOP = frozenset(
    ["the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "by", "for", "with", "from", "as", "is", "are", "was",
     "were", "be", "been", "has", "have", "had", "it", "its", "this", "that", "he", "she", "they", "his", "her",
     "their", "said", "says", "will", "would", "not", "but", "also", "which", "who", "after"]
)


def content(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOP and len(w) > 2}


def clean(sent: str) -> bool:
    """A sentence fit to stand alone as a claim: plain, declarative, no quote marks or wiki debris."""
    return (40 <= len(sent) <= 220 and sent[0].isupper() and sent.endswith(".") and not re.search(r"[\"“”()\[\]:;]", sent)
            and not re.match(r"(He|She|It|They|This|These|The company|But|And)\b", sent))


def auto(arts: dict[str, dict], used: set[str], n_verbatim: int = 70, n_unrelated: int = 48) -> None:
    rnd = random.Random(SEED + 1)
    pool = [i for i in pick_pool(arts) if i not in used]
    rnd.shuffle(pool)
    print("# verbatim: a whole sentence (review; shorten some by deleting words)")
    for i in pool[:n_verbatim]:
        spans = sentences(arts[i]["text"])
        ok = [n for n, (s, e) in enumerate(spans) if n > 0 and clean(arts[i]["text"][s:e])]
        if ok:
            n = rnd.choice(ok)
            s, e = spans[n]
            print(f"@{i}\nverbatim {n} | {arts[i]['text'][s:e]} | whole sentence")
    print("\n# unrelated: a sentence of another article, same period, most shared content words")
    by_id = sorted(arts)
    for i in pool[n_verbatim: n_verbatim + n_unrelated]:
        a = arts[i]
        spans = sentences(a["text"])
        ok = [n for n, (s, e) in enumerate(spans) if n > 0 and 40 <= e - s <= 300]
        if not ok:
            continue
        n = rnd.choice(ok)
        ev = a["text"][spans[n][0]:spans[n][1]]
        day = dt.date.fromisoformat(a["date"])
        best = (0, "", "")
        for j in by_id:
            b = arts[j]
            if j == i or b["title"] == a["title"] or abs((dt.date.fromisoformat(b["date"]) - day).days) > 60:
                continue
            for s, e in sentences(b["text"])[1:]:
                sent = b["text"][s:e]
                if clean(sent):
                    score = len(content(sent) & content(ev))
                    if score > best[0]:
                        best = (score, j, sent)
        if best[0]:
            print(f"@{i}\n# evidence: {ev}\nunrelated {n} | {best[2]} | sentence of {best[1]} ({arts[best[1]]['date']}), another story")


def pick_pool(arts: dict[str, dict]) -> list[str]:
    return sorted(i for i, a in arts.items() if len(sentences(a["text"])) >= 5 and a["date"] < "2018")


# --- assemble ----------------------------------------------------------------------------------------
def assemble(arts: dict[str, dict], drafts: list[str]) -> None:
    n = 0
    for path in drafts:
        article = None
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        for lineno, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("@"):
                article = line[1:].split()[0]
                if article not in arts:
                    sys.exit(f"{path}:{lineno}: unknown article {article}")
                continue
            try:
                head, claim, note = (p.strip() for p in line.split(" | "))
                kind, rng = head.split()
                lo, _, hi = rng.partition("-")
                lo, hi = int(lo), int(hi or lo)
            except ValueError:
                sys.exit(f"{path}:{lineno}: expected 'KIND I[-J] | claim | note': {line}")
            if kind not in KINDS or article is None or not 0 <= hi - lo <= 2:
                sys.exit(f"{path}:{lineno}: bad kind, article or range: {line}")
            text = arts[article]["text"]
            spans = sentences(text)
            n += 1
            print(json.dumps({"id": f"c{n:04d}", "kind": kind, "label": KINDS[kind], "claim": claim,
                              "article_id": article, "evidence": text[spans[lo][0]:spans[hi][1]],
                              "split": split_of(article), "note": note}, ensure_ascii=False))


# --- check -------------------------------------------------------------------------------------------
def check(arts: dict[str, dict], path: str) -> int:
    errors: list[str] = []
    rows = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for lineno, line in enumerate(lines, 1):
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{lineno}: not JSON ({e})")
            continue
        rows.append((lineno, r))
    seen_ids: set[str] = set()
    per_span: Counter = Counter()
    split_by_article: dict[str, set[str]] = defaultdict(set)
    expected = splits([r for _, r in rows if isinstance(r, dict) and "id" in r and "article_id" in r])
    for lineno, r in rows:
        where = f"{path}:{lineno}"
        if list(r) != KEYS:
            errors.append(f"{where}: keys {list(r)} != {KEYS}")
            continue
        if not re.fullmatch(r"c\d{4}", r["id"]) or r["id"] in seen_ids:
            errors.append(f"{where}: bad or repeated id {r['id']}")
        seen_ids.add(r["id"])
        if KINDS.get(r["kind"]) != r["label"]:
            errors.append(f"{where}: kind {r['kind']} with label {r['label']}")
        a = arts.get(r["article_id"])
        if a is None:
            errors.append(f"{where}: unknown article {r['article_id']}")
            continue
        text, ev = a["text"], r["evidence"]
        pos = text.find(ev)
        if pos < 0:
            errors.append(f"{where}: evidence is not in the article text")
        else:
            spans = sentences(text)
            first = next((k for k, (s, e) in enumerate(spans) if s <= pos < e), None)
            last = next((k for k, (s, e) in enumerate(spans) if s < pos + len(ev) <= e), None)
            if first is None or last is None or not 0 <= last - first <= 2:
                errors.append(f"{where}: evidence is not within 1-3 consecutive sentences")
        if r["split"] not in ("tune", "test") or r["split"] != expected.get(r["id"]):
            errors.append(f"{where}: split {r['split']} is not its round's ({expected.get(r['id'])})")
        split_by_article[r["article_id"]].add(r["split"])
        per_span[(r["article_id"], ev)] += 1
        if not r["claim"].strip() or not r["note"].strip():
            errors.append(f"{where}: empty claim or note")
        if r["kind"] == "verbatim" and not is_subsequence(words(r["claim"]), words(ev)):
            errors.append(f"{where}: verbatim claim is not the evidence with words deleted")
        if r["kind"] != "verbatim" and r["claim"].strip() == ev.strip():
            errors.append(f"{where}: a {r['kind']} claim equal to its evidence")
        if r["kind"] == "unrelated":
            m = re.search(r"wikinews-\d+", r["note"])
            if not m or m.group(0) == r["article_id"] or m.group(0) not in arts or r["claim"] not in arts[m.group(0)]["text"]:
                errors.append(f"{where}: unrelated claim must be a sentence of the other article named in the note")
    for (art, ev), k in per_span.items():
        if k > 4:
            errors.append(f"{art}: {k} claims on one evidence span (max 4): {ev[:60]}")
    for e in errors:
        print("ERROR", e)
    recs = [r for _, r in rows if list(r) == KEYS and r["article_id"] in arts]  # counts: well-formed rows only
    kinds = Counter(r["kind"] for r in recs)
    tune_arts = {r["article_id"] for r in recs if r["split"] == "tune"}
    print(f"{len(recs)} claims, {len(split_by_article)} articles "
          f"({len(tune_arts)} tune, {len(split_by_article) - len(tune_arts)} test)")
    print("label:", dict(Counter(r["label"] for r in recs)))
    print("split:", dict(Counter(r["split"] for r in recs)))
    print("years:", dict(sorted(Counter(arts[r["article_id"]]["date"][:4] for r in recs).items())))
    print(f"{'kind':<11} {'tune':>5} {'test':>5} {'total':>6} {'min':>4}")
    for k in KINDS:
        t = Counter(r["split"] for r in recs if r["kind"] == k)
        flag = "" if kinds[k] >= MINIMUM[k] else "  < minimum"
        print(f"{k:<11} {t['tune']:>5} {t['test']:>5} {kinds[k]:>6} {MINIMUM[k]:>4}{flag}")
    tags = Counter((r["kind"], tag) for r in recs for tag in ("[reldate]", "[subject]") if tag in r["note"])
    print("tags:", {f"{k} {t}": v for (k, t), v in sorted(tags.items())})
    short = [k for k in KINDS if kinds[k] < MINIMUM[k]]
    short += [f"{k} {t} < {n}" for (k, t), n in TAG_MINIMUM.items() if tags[(k, t)] < n]
    if len(split_by_article) < MIN_ARTICLES:
        short.append(f"{len(split_by_article)} articles < {MIN_ARTICLES}")
    for s in short:
        print("SHORT", s)
    return 1 if errors or short else 0


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__)
        return 2
    cmd, arts = argv[1], load(argv[2])
    if cmd == "pick":
        print("\n".join(pick(arts)))
    elif cmd == "show":
        show(arts, argv[3:])
    elif cmd == "reldate":
        reldate(arts)
    elif cmd == "auto":
        with open(argv[3], encoding="utf-8") as f:
            auto(arts, set(f.read().split()))
    elif cmd == "assemble":
        assemble(arts, argv[3:])
    elif cmd == "check":
        return check(arts, argv[3] if len(argv) > 3 else "eval/gold/claims.jsonl")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
