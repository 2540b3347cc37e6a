"""HTML pages by Jinja2 templates against the hand-written f-string renderers they replaced: the same text,
links, element ids and tags? how long per page? On the story test data plus planted markup.

    python -m eval.render_measure [--base COMMIT]   # COMMIT: the renderers to compare with (git show)
"""

import argparse
import json
import subprocess
import sys
import time
import types

import lxml.html

import rag.render.brief as new_b
import rag.render.digest as new_d
from rag.types import Article, Brief, BriefItem, Citation, DayDigest, Digest, Story, StoryRef

ap = argparse.ArgumentParser()
ap.add_argument("--base", default="1e0d381", help="commit holding the f-string renderers")
args = ap.parse_args()


def load(name: str, path: str, replace: tuple[str, str] | None = None) -> types.ModuleType:
    src = subprocess.run(["git", "show", f"{args.base}:{path}"], capture_output=True, text=True, check=True).stdout
    if replace:
        src = src.replace(*replace)
    mod = types.ModuleType(name)
    sys.modules[name] = mod
    exec(compile(src, path, "exec"), mod.__dict__)
    return mod


old_d = load("old_render_digest", "rag/render/digest.py")
old_b = load("old_render_brief", "rag/render/brief.py", ("from rag.render.digest import", "from old_render_digest import"))

PLANTED = {"id": "planted-html", "title": "Markup <script>alert(1)</script> & <b>bold</b> \"q\" 'a'",
           "date": "2005-03-20", "url": "javascript:alert(2)",
           "text": "A planted article with <script>alert('x')</script> markup & \"quotes\" in its body tests escaping. "
                   "The page must show it."}


def pages() -> tuple[Digest, Brief]:
    """A digest of every day of the story data and a brief over it: each story and item cites two real
    sentences and one citation whose text is not the article's (shown without context)."""
    with open("tests/data/wikinews_stories_2005.jsonl", encoding="utf-8") as f:
        recs = [json.loads(line) for line in f] + [PLANTED]
    arts = {r["id"]: Article(r["id"], r["title"], r["text"], r["date"], r.get("url")) for r in recs}

    def cites(ids: list[str]) -> list[Citation]:
        out = []
        for n, i in enumerate(ids, 1):
            a = arts[i]
            s = a.text.find(". ") + 2
            e = a.text.find(". ", s) + 1
            out.append(Citation(n, i, a.title, a.date, a.url, s, e, a.text[s:e]))
        out.append(Citation(len(ids) + 1, ids[0], arts[ids[0]].title, None, None, 0, 5, "not the text <x>"))
        return out

    days: dict[str, list[str]] = {}
    for r in recs:
        days.setdefault(r["date"], []).append(r["id"])
    order = sorted(days)
    dd = [DayDigest(d, ids, [Story(arts[i].title, f"Summary of {arts[i].title} <i>x</i> [1] and [2][{len(ids) + 1}].",
                                   [i, *ids[:2]], cites([i, *ids[:1]]),
                                   StoryRef(order[k - 1], 0, "Earlier <story>", ids) if k else None) for i in ids])
          for k, (d, ids) in enumerate(sorted(days.items()))]
    dd.append(DayDigest("2005-05-01", [], []))
    items = [BriefItem(f"On {a.date} <b>{a.title}</b> [1].", cites([a.id]), a.date) for a in arts.values()]
    coverage = {"relevant": 3, "recalled": 9, "min_relevance": 0.3, "used": 3, "from": "a", "to": "b"}
    return Digest(dd, arts), Brief("Lebanon & <Syria>", list(arts), items[:2], items, items[3:5], coverage, {}, arts)


def seen(page: str) -> list[object]:
    """What a reader gets: the text (whitespace aside), links, element ids, tags, the title."""
    root = lxml.html.fromstring(page)
    for st in list(root.iter("style")):
        st.getparent().remove(st)
    return ["".join(root.text_content().split()),
            sorted((a.get("href"), " ".join(a.text_content().split())) for a in root.iter("a")),
            sorted(e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")),
            sorted(e.tag for e in root.iter() if isinstance(e.tag, str)), root.findtext(".//title")]


def main() -> None:
    digest, brief = pages()
    for name, old, new, obj in [("digest", old_d.digest_html, new_d.digest_html, digest),
                                ("brief", old_b.brief_html, new_b.brief_html, brief)]:
        o, n = old(obj), new(obj)
        same = [a == b for a, b in zip(seen(o), seen(n), strict=True)]
        times = {}
        for f, label in ((old, "f-strings"), (new, "jinja2")):
            f(obj)
            t = time.perf_counter()
            for _ in range(20):
                f(obj)
            times[label] = round((time.perf_counter() - t) / 20 * 1000, 2)
        print(json.dumps({"page": name, "same text/links/ids/tags/title": same, "script tags": [o.count("<script"), n.count("<script")],
                          "ms per page": times}))


main()
