"""EvalReport -> Markdown: the scores against their thresholds, a table per metric, the failing items."""

from __future__ import annotations

from rag.eval.harness import METRICS, STAGES, EvalReport


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _cell(text: str, n: int = 160) -> str:
    t = " ".join(str(text).split()).replace("|", "\\|")
    return t if len(t) <= n else t[: n - 1] + "…"


def markdown(report: EvalReport) -> str:
    s, below = report.scores(), report.below()
    u = report.usage()
    out = [f"# rag eval: {report.set}", "",
           f"Gold: `{report.gold}` ({len(report.items)} items, k={report.k}). "
           f"Result: **{'FAIL' if below else 'pass'}**.", ""]
    out += [f"> {n}" for n in report.notes]
    splits = report.splits()
    by = {sp: report.scores(sp) for sp in splits}
    out += ["", "## Scores", "", "| metric | mean | " + "".join(f"{sp} | " for sp in splits) + "threshold | status |",
            "|---|---|" + "---|" * len(splits) + "---|---|"]
    for name in METRICS:
        if s[name] is None and name not in report.thresholds:
            continue
        t = report.thresholds.get(name)
        status = "below" if name in below else ("ok" if t is not None and s[name] is not None else "-")
        cells = "".join(f"{_fmt(by[sp][name])} | " for sp in splits)
        out.append(f"| {name} | {_fmt(s[name])} | {cells}{'' if t is None else t} | {status} |")
    for sp in [None, *splits]:
        st = report.stages(sp)
        if not st:
            continue
        out += ["", f"## Answerable questions: answered, wrong, refused by stage ({sp or 'all items'})", "",
                "| kind | n | correct | wrong | " + " | ".join(STAGES) + " |", "|---|---|---|---|" + "---|" * len(STAGES)]
        for k in sorted(st, key=lambda x: (x == "all", x)):
            row = st[k]
            out.append(f"| {k} | {row['n']} | {row['correct']} | {row['wrong']} | "
                       + " | ".join(str(row.get(x, 0)) for x in STAGES) + " |")
    out += ["", "## Cost", "", "| items | total s | mean s/item | max s/item | prompt tokens | completion tokens |",
            "|---|---|---|---|---|---|",
            f"| {u['items']} | {u['total_seconds']} | {u['mean_item_seconds']} | {u['max_item_seconds']} | "
            f"{u['prompt_tokens']} | {u['completion_tokens']} |", ""]
    kinds = sorted({r.kind for r in report.items})
    shown = [n for n in METRICS if not n.startswith("digest") and s[n] is not None]
    out += ["## By kind", "", "| kind | n | " + " | ".join(shown) + " |", "|---|---|" + "---|" * len(shown)]
    for k in kinds:
        rs = [r for r in report.items if r.kind == k]
        means = []
        for name in shown:
            vals = [r.scores[name].value for r in rs if name in r.scores and r.scores[name].value is not None]
            means.append(_fmt(sum(vals) / len(vals)) if vals else "n/a")  # type: ignore[arg-type]
        out.append(f"| {k} | {len(rs)} | " + " | ".join(means) + " |")
    for name in shown:
        out += ["", f"## {name}", "", "| item | value | why |", "|---|---|---|"]
        out += [f"| {r.id} | {_fmt(r.scores[name].value)} | {_cell(r.scores[name].why)} |" for r in report.items
                if name in r.scores]
    if report.digests:
        out += ["", "## Digests", "", "| date | coverage | grouping | citations | why |", "|---|---|---|---|---|"]
        for d in report.digests:
            c, g, v = d.scores["digest_coverage"], d.scores["digest_grouping"], d.scores["digest_citations"]
            why = _cell(f"{c.why}; {g.why}; {v.why}", 300)
            out.append(f"| {d.date} | {_fmt(c.value)} | {_fmt(g.value)} | {_fmt(v.value)} | {why} |")
    failing = [r for r in report.items if r.failed()]
    out += ["", f"## Failing items ({len(failing)})", ""]
    for r in failing:
        out += [f"### {r.id} ({r.kind}{', ' + r.split if r.split else ''}): {r.question}", "",
                f"- answer{f' (refused at {r.stage})' if r.refused and r.stage else ''}: {_cell(r.answer, 400)}",
                *([f"- why refused: {_cell(r.detail, 600)}"] if r.detail else []),
                f"- gold facts: {'; '.join(' | '.join(f) for f in r.facts) or '(must refuse)'}"]
        out += [f"- gold passage: \"{_cell(p, 200)}\"" for p in r.gold_passages]
        out += [f"- {k}: {_fmt(v.value)}: {v.why}" for k, v in r.failed().items()]
        out.append("")
    return "\n".join(out) + "\n"
