"""The `rag` command: parse, call one library function, print, map RagError to one line + exit 1."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.config import Settings, load_settings
from rag.errors import RagError
from rag.render.terminal import safe, safe_json

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Cited answers and daily digests over news articles.")

IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index directory (overrides RAG_INDEX_DIR).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Print token and time accounting on stderr.")]
DateOpt = Annotated[str | None, typer.Option("--date", help="Publication date (YYYY-MM-DD) for every article.")]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Source (outlet) for every article of this run.")]


def _settings(index: Path | None) -> Settings:
    try:
        return load_settings(index_dir=index)
    except Exception as e:  # pydantic's ValidationError: name the bad variable
        raise RagError(f"invalid settings: {str(e).splitlines()[0]} ... check the RAG_* environment variables") from e


def _fail(e: RagError) -> None:
    typer.echo(safe(f"error: {e}"), err=True)
    raise typer.Exit(1)


def _print_json(obj: Any) -> None:
    typer.echo(safe_json(json.dumps(obj, ensure_ascii=False)))


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files or folders (recursive): txt md html json(l) RSS Atom; "
                                                    "or http(s) URLs of feeds and article pages.")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
    date: DateOpt = None,
    source: SourceOpt = None,
) -> None:
    """Chunk, embed and store articles (files, folders, feed or page URLs). Exit status 1 if any input was rejected."""
    import time

    from rag.ingest import ingest as run
    from rag.ingest.dates import parse_flag_date
    from rag.ingest.fetch import is_url
    from rag.models.backends import MeteredEmbedder
    from rag.models.embed import make_embedder
    from rag.render.text import ingest_notes, ingest_progress, ingest_text, usage_text

    t0 = time.monotonic()
    try:
        flag_date = parse_flag_date(date) if date is not None else None
    except ValueError:
        _fail(RagError(f"--date {date!r} is not a date; use YYYY-MM-DD"))
    try:
        settings = _settings(index)
        embedder = MeteredEmbedder(make_embedder(settings))
        with ingest_progress(sys.stderr) as progress:
            report = run([p if is_url(p) else Path(p) for p in paths], settings, embedder=embedder, progress=progress, date=flag_date, source=source,
                         on_wait=lambda msg: typer.echo(f"note: {msg}", err=True))
    except RagError as e:
        _fail(e)
    usage = {**embedder.usage(), "seconds": round(time.monotonic() - t0, 3)}
    if as_json:
        _print_json({**report.to_dict(), "usage": usage})
        for line in ingest_notes(report):
            typer.echo(f"note: {line}", err=True)
    else:
        typer.echo(ingest_text(report))
    if verbose:
        typer.echo(usage_text(usage), err=True)
    if report.rejected:
        raise typer.Exit(1)


feeds_app = typer.Typer(no_args_is_help=True, help="Feeds (RSS, Atom) that `rag update` and `rag daily` fetch.")
app.add_typer(feeds_app, name="feeds")
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no step lines; only errors "
                                                             "(progress shows only on a terminal anyway).")]


def _note(msg: str) -> None:
    typer.echo(f"note: {msg}", err=True)


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="The feed's http(s) URL.")],
    name: Annotated[str | None, typer.Option("--name", help="A short name (the source of its articles).")] = None,
    index: IndexOpt = None,
) -> None:
    """Subscribe to a feed (fetched by `rag update`)."""
    from rag.ingest.feeds import add_feed

    try:
        feed, new = add_feed(_settings(index), url, name, on_wait=_note)
    except RagError as e:
        _fail(e)
    typer.echo(safe(f"{'added' if new else 'already subscribed:'} {feed.label}  {feed.url}"))


@feeds_app.command("list")
def feeds_list(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Every feed with its last update's outcome."""
    from rag.ingest.feeds import list_feeds
    from rag.render.text import feeds_text

    try:
        feeds = list_feeds(_settings(index))
    except RagError as e:
        _fail(e)
    if as_json:
        _print_json({"feeds": [f.to_dict() for f in feeds]})
    else:
        typer.echo(feeds_text(feeds))


@feeds_app.command("remove")
def feeds_remove(
    keys: Annotated[list[str], typer.Argument(help="Feeds to drop, by URL or name (their articles stay).")],
    index: IndexOpt = None,
) -> None:
    """Unsubscribe from feeds; their articles stay in the index (`rag remove` removes articles)."""
    from rag.ingest.feeds import remove_feeds

    try:
        gone = remove_feeds(_settings(index), keys, on_wait=_note)
    except RagError as e:
        _fail(e)
    for f in gone:
        typer.echo(safe(f"removed {f.label}  {f.url}"))


@app.command()
def update(index: IndexOpt = None, as_json: JsonOpt = False, quiet: QuietOpt = False) -> None:
    """Fetch every feed and ingest what is new. Exit status 1 if any feed or page failed (the rest lands)."""
    from rag.ingest.feeds import update as run
    from rag.render.text import stage_progress, update_text

    try:
        settings = _settings(index)
        with stage_progress(sys.stderr, not quiet and not as_json) as progress:
            report = run(settings, progress=progress, on_wait=_note)
        if report.feeds == 0:
            raise RagError("no feeds to update: add one with `rag feeds add URL`")
    except RagError as e:
        _fail(e)
    if as_json:
        _print_json(report.to_dict())
    elif not quiet or not report.ok:
        text = update_text(report)
        typer.echo(text if not quiet else "\n".join(x for x in text.splitlines() if x.startswith(("failed", "rejected"))),
                   err=quiet)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def daily(
    out: Annotated[Path, typer.Option("--out", help="The site directory (created; earlier days are kept).")],
    date: Annotated[str | None, typer.Option("--date", help="The day, YYYY-MM-DD (default: today).")] = None,
    no_update: Annotated[bool, typer.Option("--no-update", help="Do not fetch the feeds; digest what is indexed.")] = False,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Update the feeds, digest the day, brief its developing stories, and publish the static site
    (index.html, a page per day, feed.atom, JSON). Exit status 1 if anything failed; the rest is published."""
    import time

    from rag.daily import daily as run
    from rag.render.text import stage_progress

    def log(msg: str) -> None:
        if not quiet:
            typer.echo(safe(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} rag daily: {msg}"), err=True)

    try:
        settings = _settings(index)
        with stage_progress(sys.stderr, not quiet) as progress:
            report = run(settings, out, day=date, update_feeds=not no_update, log=log, progress=progress,
                         on_wait=None if quiet else _note)
    except RagError as e:
        _fail(e)
    if report.update is not None:
        for f in report.update.failed:
            typer.echo(safe(f"error: {f['url']}: {f['reason']}"), err=True)
        for x in report.update.ingest.rejected:
            typer.echo(safe(f"error: {x['path']}: {x['reason']}"), err=True)
    if as_json:
        _print_json(report.to_dict())
    if not report.ok:
        raise typer.Exit(1)


def _iso(value: str | None, flag: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise RagError(f"{flag} {value!r} is not a date: use YYYY-MM-DD") from None


@app.command()
def stats(index: IndexOpt = None, as_json: JsonOpt = False) -> None:
    """Articles, chunks, articles per day, date range and sources of the index."""
    from rag.render.text import stats_text
    from rag.store import Index

    try:
        with Index.open(_settings(index)) as ix:
            st = ix.stats()
    except RagError as e:
        _fail(e)
    if as_json:
        _print_json(st)
    else:
        typer.echo(stats_text(st))


@app.command("list")
def list_(
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    since: Annotated[str | None, typer.Option("--since", help="Only articles published on or after this day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only articles published on or before this day (YYYY-MM-DD).")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only articles of this source (any case).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many (newest first).")] = 50,
) -> None:
    """Indexed articles: id, title, date and source, newest first (the ids show, remove and citations use)."""
    from rag.render.text import list_text
    from rag.store import Index

    try:
        s, u = _iso(since, "--since"), _iso(until, "--until")
        with Index.open(_settings(index)) as ix:
            total, rows = ix.listing(s, u, source, limit)
    except RagError as e:
        _fail(e)
    if as_json:
        _print_json({"total": total, "articles": rows})
    else:
        typer.echo(safe(list_text(total, rows)))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Resolve 'yesterday', 'last week'... against this day (YYYY-MM-DD; default today).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only articles published on or after this day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only articles published on or before this day (YYYY-MM-DD).")] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Answer a question from the indexed articles, citing the passages."""
    from rag import warm
    from rag.answering.answer import ask as run
    from rag.render.text import answer_text, usage_text
    from rag.store import Index

    stream = not as_json and sys.stdout.isatty()
    try:
        settings = _settings(index)
        ref = _iso(as_of, "--as-of")
        kw: dict[str, Any] = dict(as_of=date.fromisoformat(ref) if ref else None, since=_iso(since, "--since"),
                                  until=_iso(until, "--until"),
                                  on_text=(lambda t: print(safe(t), end="", flush=True)) if stream else None)
        served = None
        if not question.strip():
            raise RagError("the question is empty: ask something, e.g. rag ask \"Who won the vote?\"")
        if warm.usable(settings) and (url := warm.warm_url(settings) or warm.start(settings)):
            try:
                served = warm.remote_ask(url, question, settings, **kw)
            except ConnectionError:
                served = None  # the warm server went away: answer here
        answer = served or run(question, settings, **kw)
        texts: dict[str, str] = {}
        if as_json:
            _print_json(answer.to_dict())
        else:
            with Index.open(settings) as ix:
                texts = {c.article_id: ix.article(c.article_id).text for c in answer.citations}
    except RagError as e:
        _fail(e)
    if not as_json:
        if stream and not answer.refused:
            typer.echo("\n")
        typer.echo(answer_text(answer, texts, skip_answer=stream and not answer.refused))
        if answer.refusal and answer.refusal.detail != answer.answer:
            typer.echo(safe(f"why: {answer.refusal.detail} (stage: {answer.refusal.stage})"))
    if verbose:
        typer.echo(usage_text(answer.usage), err=True)


@app.command()
def check(
    text: Annotated[str | None, typer.Argument(help="The text to check (or use --file).")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Read the text from this file ('-' for stdin).")] = None,
    lines: Annotated[bool, typer.Option("--lines", help="Each non-empty line is one statement.")] = False,
    article: Annotated[list[str] | None, typer.Option("--article", help="Check only against this article (repeatable).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only evidence published on or after this day.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only evidence published on or before this day.")] = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Check each sentence of a text against the indexed articles. Exit status 1 if any is not supported."""
    from rag.check import check_text
    from rag.render.text import check_text as render

    try:
        if (text is None) == (file is None):
            raise RagError("give the text to check as an argument or with --file PATH (not both)")
        if file is not None:
            try:
                body = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise RagError(f"cannot read {file}: {getattr(e, 'strerror', None) or e}; give a UTF-8 text file") from None
        else:
            body = text or ""
        result = check_text(body, _settings(index), lines=lines, article_ids=article or None,
                            since=_iso(since, "--since"), until=_iso(until, "--until"))
    except RagError as e:
        _fail(e)
    if as_json:
        _print_json(result.to_dict())
    else:
        typer.echo(safe(render(result)))
    if verbose:
        typer.echo(" ".join(f"{k}={v}" for k, v in result.usage.items()), err=True)
    if result.supported < len(result.statements):
        raise typer.Exit(1)


@app.command()
def show(
    article_id: Annotated[str, typer.Argument(help="Article id (as in citations).")],
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print a stored article."""
    from rag.store import Index

    try:
        with Index.open(_settings(index)) as ix:
            a = ix.article(article_id)
    except RagError as e:
        _fail(e)
    if as_json:
        _print_json({"id": a.id, "title": a.title, "date": a.date, "url": a.url, "source": a.source, "text": a.text})
    else:
        typer.echo(safe(f"{a.title}\n{a.date or 'undated'}  {a.source or ''}  {a.url or ''}\n\n{a.text}"))


@app.command()
def remove(
    article_ids: Annotated[list[str], typer.Argument(help="Article ids to remove.")],
    index: IndexOpt = None,
) -> None:
    """Remove articles and their chunks from the index."""
    from rag.store import Index

    try:
        settings = _settings(index)
        with Index.open(settings) as ix:
            ix.lock(timeout=settings.lock_timeout, on_wait=lambda msg: typer.echo(f"note: {msg}", err=True))
            missing = ix.remove(article_ids)
    except RagError as e:
        _fail(e)
    typer.echo(f"removed {len(article_ids) - len(missing)}")
    if missing:
        typer.echo(safe(f"error: not in the index: {', '.join(missing)}; list ids with `rag list`"), err=True)
        raise typer.Exit(1)


@app.command("eval")
def eval_(
    gold: Annotated[str | None, typer.Option("--gold", help="Gold file, or a set in eval/thresholds.toml.")] = None,
    index: IndexOpt = None,
    corpus: Annotated[Path | None, typer.Option("--corpus", help="Corpus file/folder for the set's index.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the Markdown report here.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N items.")] = None,
    split: Annotated[str | None, typer.Option("--split", help="Only the items of this split: tune or test.")] = None,
    thresholds: Annotated[Path | None, typer.Option("--thresholds", help="Gold sets and thresholds file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score answers on a gold set; exit status 1 when a metric falls below its threshold."""
    from rag.eval.harness import CONFIG, CorpusMissing, run_eval
    from rag.eval.report import markdown

    live = sys.stderr.isatty()  # a count rewritten in place; in a log it would be one long line

    def tick(n: int, total: int, r: object) -> None:
        if live:
            typer.echo(f"\r{n}/{total}", nl=False, err=True)

    try:
        if split not in (None, "tune", "test"):
            raise RagError(f"--split {split!r}: use tune or test")
        result = run_eval(gold, _settings(None), index_dir=index, corpus=corpus, limit=limit, split=split,
                          progress=tick, config=thresholds or CONFIG)
    except CorpusMissing as e:
        typer.echo(safe(f"skipped: {e}"), err=True)
        raise typer.Exit(0) from None
    except RagError as e:
        _fail(e)
    if live:
        typer.echo("", err=True)
    md = markdown(result)
    if report:
        report.write_text(md, encoding="utf-8")
    if as_json:
        _print_json(result.to_dict())
    else:
        typer.echo(safe(md if not report else md.split("\n## Cost")[0]))
    for name, (v, t) in result.below().items():
        typer.echo(f"error: {name} = {v:.3f} is below its threshold {t}", err=True)
    if result.below():
        raise typer.Exit(1)


@app.command()
def digest(
    date: Annotated[str | None, typer.Option("--date", help="One day, YYYY-MM-DD.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day of a range.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day of a range (default: the latest indexed).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this day to the latest indexed day.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, md, html or json.")] = "text",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What happened each day: stories with headlines and cited summaries (default: the latest day)."""
    from rag.render.digest import render_digest
    from rag.store import Index
    from rag.summarise.digest import digest as run
    from rag.summarise.digest import resolve_days

    fmt = _check_format(fmt, as_json)
    try:
        settings = _settings(index)
        with Index.open(settings) as ix:
            span = resolve_days(ix, date, date_from, date_to, since)
            if span is None:
                raise RagError(f"the index at {ix.dir} holds no dated articles: give --date, or ingest dated articles")
            with _progress(span[0] != span[1]) as progress:
                result = run(settings, span[0], span[1], index=ix, progress=progress)
        _emit(render_digest(result, fmt), out)
    except RagError as e:
        _fail(e)


def _check_format(fmt: str, as_json: bool) -> str:
    fmt = "json" if as_json else fmt
    if fmt not in ("text", "md", "html", "json"):
        typer.echo(f"error: unknown --format {fmt!r}: use text, md, html or json", err=True)
        raise typer.Exit(1)
    return fmt


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(safe(text), nl=False)
        return
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    try:  # written beside and renamed over, so a failed run never leaves a half-written file
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise RagError(f"cannot write {out}: {e.strerror or e}; choose another --out path") from e


@app.command()
def brief(
    topic: Annotated[str, typer.Argument(help="The story, e.g. \"Syria's withdrawal from Lebanon\".")],
    since: Annotated[str | None, typer.Option("--since", help="Only articles from this day, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only articles up to this day, YYYY-MM-DD.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, md, html or json.")] = "text",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    index: IndexOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A cited brief on a story: overview, dated timeline, and where sources disagree."""
    from rag.render.brief import render_brief
    from rag.summarise.brief import brief as run
    from rag.summarise.digest import parse_day

    fmt = _check_format(fmt, as_json)
    try:
        settings = _settings(index)
        s = parse_day(since, "--since") if since else None
        u = parse_day(until, "--until") if until else None
        with _progress(True) as progress:
            result = run(topic, settings, since=s, until=u, progress=progress)
        _emit(render_brief(result, fmt), out)
    except RagError as e:
        _fail(e)


def _progress(several: bool) -> Any:
    """A progress bar on stderr for runs of several steps (days, articles), in a terminal only."""
    import contextlib

    if not several or not sys.stderr.isatty():
        return contextlib.nullcontext(None)

    @contextlib.contextmanager
    def bar() -> Any:
        state: dict[str, Any] = {}
        try:
            def step(done: int, total: int, label: str) -> None:
                if "bar" not in state:
                    state["bar"] = typer.progressbar(length=total, label="working", file=sys.stderr).__enter__()
                state["bar"].update(done - state.get("done", 0))
                state["done"] = done

            yield step
        finally:
            if "bar" in state:
                state["bar"].__exit__(None, None, None)

    return bar()


@app.command()
def doctor(
    index: IndexOpt = None,
    as_json: JsonOpt = False,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Skip the LLM check (it may load the local model).")] = False,
    repair: Annotated[bool, typer.Option("--repair", help="Make the vector store match the article store "
                                                          "(embed missing chunks again, delete stale vectors).")] = False,
) -> None:
    """Check the configured LLM, embedder and store; exit 1 if any is broken."""
    from rag.doctor import doctor as run
    from rag.doctor import render

    try:
        checks = run(_settings(index), skip_llm=no_llm, repair_store=repair)
    except RagError as e:
        _fail(e)
    ok = all(c.status != "fail" for c in checks)
    if as_json:
        _print_json({"ok": ok, "checks": [c.to_dict() for c in checks]})
    else:
        typer.echo(safe(render(checks)))
    if not ok:
        raise typer.Exit(1)


@app.command()
def serve(
    port: Annotated[int | None, typer.Option("--port", help="Port on 127.0.0.1 (default: a free one).")] = None,
    idle_timeout: Annotated[float | None, typer.Option("--idle-timeout", help="Exit after this many seconds without a question.")] = None,
) -> None:
    """Keep the local model (and for rag ask the embedder and indexes) loaded for commands in other shells."""
    from rag.warm import serve as run

    try:
        settings = _settings(None)
        run(settings, port, idle_timeout=idle_timeout, on_ready=lambda url: typer.echo(
            f"serving {settings.local_model} at {url}: rag ask, digest and brief with this RAG_MODEL_DIR use it; "
            "Ctrl-C stops it", err=True))
    except RagError as e:
        _fail(e)


@app.command()
def web(
    host: Annotated[str, typer.Option("--host", help="Address to bind (loopback by default; another one is "
                                                     "reachable from the network).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    index: IndexOpt = None,
) -> None:
    """The web app and JSON API: ask, days, stories, check, articles (writes only with RAG_WEB_TOKEN)."""
    from rag.web import serve as run

    try:
        settings = _settings(index)
        run(settings, host, port, warn=lambda msg: typer.echo(safe(f"warning: {msg}"), err=True),
            on_ready=lambda url: typer.echo(f"rag web: {url}  (index {settings.index_dir}; Ctrl-C stops it)", err=True))
    except RagError as e:
        _fail(e)


@app.command("settings")
def show_settings() -> None:
    """List every setting, its environment variable, default and description."""
    for name, f in Settings.model_fields.items():
        default = f.default_factory() if f.default_factory else f.default  # type: ignore[call-arg]
        typer.echo(f"RAG_{name.upper():<22} {default!s:<40} {f.description}")


def main() -> None:
    try:
        app()
    except RagError as e:  # a last net; commands map their own errors
        print(safe(f"error: {e}"), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
