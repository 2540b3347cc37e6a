"""One verifier for answers, digests, briefs and `rag check`: is a claim supported by a passage, and why not.

For a claim and a passage, the verifier picks the evidence window (one to three consecutive sentences)
that shares most of the claim's words, then runs the explicit checks of rag.verify.checks on it, each
with its own reason: quotes, names (first word included), numbers with units and magnitudes, dates
(the evidence's relative dates resolved against its publication day), polarity, roles, and modality (nothing the
evidence gives only as possible, "they face a fine", is stated as done, modality.toml). A claim that
passes them all is supported when it shares enough of its words with the window (thresholds.toml,
`supported`); a claim that shares fewer (a paraphrase) goes to the entailment judgement (rag.verify.judge,
the configured model asked yes or no) when one is given, and is unsupported otherwise. A claim the checks
pass that does not repeat its window word for word is put to the judgement as well, and a firm no
(`judge_veto`) makes it unsupported. The other way round, a claim only the figure-order or polarity checks reject
(thresholds.toml `appeal`) is supported on the judgement's firm yes (`judge_appeal`): those checks misread some
faithful paraphrases. A name, figure or date the evidence does not give, and the role checks, take no appeal.
An answer that restates the question's premise, which its window leaves out, is judged with the article's sentences
that give the premise beside the window (`_premise`); it is still cited by the window alone.

Verdicts: `supported`; `contradicted` (a check found the evidence saying otherwise: another number,
date, polarity or doer, over a window that shares the claim's words); `unsupported` (the evidence does
not say it); `no_evidence` (no passage to check against). Every verdict has a one-line `reason`.

`verify()` applies this to a generated text sentence by sentence: every `[n]` must name a passage of the
context; a sentence its cited passages do not support is checked against the other passages (the check,
not the model, decides what is cited); a sentence nothing supports is dropped, with its reason, unless its
supported clauses, or the sentence without a clause it copies from the question (`without_premise`, with the
judgement's yes at `judge_rescue`), can stand alone, or unless it answers the question (`answers_question`): a
window grounds the names it adds to the question and the judgement, asked whether the evidence gives this answer
to this question, says yes at `judge_answer`. Each surviving citation is the supporting window: offsets into the
stored article.

Not handled: claims spanning two articles (each sentence is checked against one passage); coreference
("he" is not checked against who "he" is).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

from rag.chunk import sentences
from rag.cite import calendar, content_words, parse_markers, strip_markers, weighted_words
from rag.stem import stem
from rag.textdates import published_day
from rag.types import Citation, Passage
from rag.verify import checks, contrast
from rag.verify.facts import Facts, _doc, analyse, numbers, sentence_facts
from rag.verify.judge import Judge, make_judge
from rag.verify.lexicon import fold, lexicon

__all__ = ["Judge", "Verdict", "Verified", "check_claim", "make_judge", "verify"]

Kind = Literal["supported", "unsupported", "contradicted", "no_evidence"]
MAX_WINDOW = 3  # sentences in one evidence window
TRY_WINDOWS = 3  # best windows of a passage checked in full


@dataclass
class Verdict:
    claim: str
    verdict: Kind
    reason: str
    passage: Passage | None = None
    start: int = 0  # article offsets of the evidence window
    end: int = 0
    coverage: float = 0.0
    checks: list[checks.Check] = field(default_factory=list)
    judged: bool = False  # the entailment judgement decided

    @property
    def supported(self) -> bool:
        return self.verdict == "supported"

    @property
    def evidence(self) -> str:
        p = self.passage
        return p.text[self.start - p.start : self.end - p.start] if p else ""


@lru_cache(maxsize=512)
def _claim(claim: str, published: str | None) -> Facts:
    return analyse(list(_doc(claim)), claim, published)


@lru_cache(maxsize=256)
def _sentences(text: str, published: str | None) -> tuple[tuple[tuple[int, int], ...], list[Facts]]:
    """A passage's sentence spans and each sentence's facts (read-only once made)."""
    spans = tuple(sentences(text)) or ((0, len(text)),)
    return spans, sentence_facts(text, spans, published)


def _windows(p: Passage) -> list[tuple[int, int, Facts, list[Facts]]]:
    """Runs of up to MAX_WINDOW sentences: (start, end, their facts together, each sentence's facts)."""
    spans, facts = _sentences(p.text, p.date)
    out = []
    for i in range(len(spans)):
        f = facts[i]
        for j in range(i, min(i + MAX_WINDOW, len(spans))):
            if j > i:
                f = f | facts[j]
            out.append((spans[i][0], spans[j][1], f, facts[i : j + 1]))
    return out


def _candidates(claim: str, p: Passage, question: str) -> list[tuple[float, int, int, Facts, list[Facts]]]:
    """The passage's windows most likely to support the claim: sharing most of its words (numbers and
    dates included), then most of the question's, then the shortest (the tightest citation)."""
    words = weighted_words(claim)
    total = sum(words.values()) or 1.0
    asked = content_words(question)
    scored = []
    for s, e, f, parts in _windows(p):
        text = p.text[s:e]
        have = content_words(text)
        share = sum(x for w, x in words.items() if w in have) / total
        scored.append((round(share, 6), len(asked & have), -(e - s), checks.coverage(claim, text, question), s, e, f,
                       parts))
    scored.sort(key=lambda x: x[:3], reverse=True)
    return [(cov, s, e, f, parts) for *_, cov, s, e, f, parts in scored[:TRY_WINDOWS]]


def _assess(claim: str, p: Passage, question: str, asked: set[str], article: str = "") -> list[Verdict]:
    """The claim against each of the passage's best windows, without the judgement (`article`: the whole text
    of the passage's article, where the question's own names and figures may be found)."""
    cf = _claim(claim, p.date)
    qf = _claim(question, None) if question else None  # the question's facts: its negations, its events
    sents = _sentences(p.text, p.date)[1]
    # the question's figures that its article gives: the claim may repeat them (the question's premise) as the
    # question's names, from anywhere in the article
    premise = checks.premise_figures(question, article or p.text)
    out = []
    for cov, s, e, wf, parts in _candidates(claim, p, question):
        text = p.text[s:e]
        results = [
            checks.quotes(claim, text),
            checks.names(cf, wf, p.title, p.text, asked, article),
            checks.numbers(cf, wf, premise),
            checks.dates(cf, wf, p.date, question, parts),
            checks.polarity(cf, wf, qf),
            checks.roles(cf, wf, parts),
            checks.owners(cf, parts),
            checks.crossed_figures(cf, parts),
            checks.crossed_clauses(cf, parts),
            checks.credited_elsewhere(cf, parts),
            checks.negated_nearby(cf, wf, [f for f in sents if not any(f is x for x in parts)]),
            checks.modality(cf, wf, qf),
            checks.event(cf, qf),
        ]
        failed = [c for c in results if not c.ok]
        th = lexicon().thresholds
        # numbers and dates the question did not hold, once their own checks passed, count as the claim's
        # own words found ("He named June 27" answers "What date did he give?" with the date)
        given, asked_text = {n.key() for n in numbers(question)}, fold(question)
        own = sum(1 for n in cf.numbers if n.key() not in given) if results[2].ok else 0
        own += sum(1 for d in cf.dates if fold(d.phrase) not in asked_text) if results[3].ok else 0
        if own:
            cov = checks.coverage(claim, text, question, own)
        v = Verdict(claim, "supported", "", p, p.start + s, p.start + e, cov, results)
        leans = (_leans_on_question(cf, f"{p.title}. {text}", question) or _event_not_said(claim, cf, wf, question, qf)
                 ) if not failed and cov >= th["supported"] else ""
        if leans:  # "The turnout was 13,507 votes" over "Mason won 13,507 votes", asked about the turnout
            v.verdict = "unsupported"
            v.reason = f"coverage: undecided by the checks (the evidence does not say {leans}, which the question does)"
        elif failed and all(c.undecided for c in failed) and cov >= th["judge"]:
            v.verdict = "unsupported"
            v.reason = f"coverage: undecided by the checks ({failed[0].reason})"
        elif failed:
            first = failed[0]
            v.verdict = "contradicted" if first.contradicts and cov >= th["supported"] else "unsupported"
            v.reason = f"{first.name}: {first.reason}"
        elif cov >= th["supported"]:
            v.reason = f"every check passed; {cov:.0%} of its words in the evidence"
        else:
            v.verdict = "unsupported"
            v.reason = f"coverage: only {cov:.0%} of its words are in the evidence"
        out.append(v)
    return out


def _event_not_said(claim: str, cf: Facts, window: Facts, question: str, qf: Facts | None) -> str:
    """The question's event ("released"), quoted, when the claim adds only a date or a figure to the question's
    own words and the window never says that event ("David Hicks was released on 30 March 2007" over "Hicks
    was sentenced Friday"): the date may be another event's, so the judgement decides; "" otherwise."""
    if qf is None:
        return ""
    own, dated = content_words(claim) - content_words(question), calendar(claim)
    if not own or not all(w.replace(".", "").isdigit() or w in dated for w in own):
        return ""
    said = {stem(w) for w in window.lemmas}
    events = sorted({v for _, v, _ in qf.triples if v not in checks.LIGHT_VERBS} & {v for _, v, _ in cf.triples})
    missing = [v for v in events if stem(v) not in said]
    return ", ".join(repr(v) for v in missing[:2])


def _leans_on_question(cf: Facts, text: str, question: str) -> str:
    """The question's nouns ("turnout", "departure") that the claim restates but the evidence lacks, quoted:
    what the claim says of them is the judgement's to decide; "" if none. Verbs are left out ("The talks
    were held in Geneva" answers "Where were the talks held?" from "talks in Geneva"), and names, numbers and
    dates have their own checks."""
    if not question:
        return ""
    dated = content_words(" ".join(d.phrase for d in cf.dates))  # "yesterday", "last month"
    missing = sorted((content_words(" ".join(cf.nouns)) & content_words(question)) - content_words(text) - dated)
    return ", ".join(repr(w) for w in missing[:4])


def _asked(question: str) -> set[str]:
    """The question's words, folded, as a name of the claim is matched against them ("Glivec" of "(Glivec)?"),
    with the parts of a hyphenated word, which the parse of a claim splits ("CID-Gallup": cid, gallup)."""
    words = {fold(w).strip("?.,!'\"()").removesuffix("'s") for w in question.split()}
    return words | {p for w in words for p in re.split(r"[-/]", w) if p}


def _rank(v: Verdict) -> tuple[int, float]:
    order = {"supported": 3, "contradicted": 2, "unsupported": 1, "no_evidence": 0}
    return order[v.verdict], v.coverage


def check_claim(
    claim: str, passages: Sequence[Passage], question: str = "", judge: Judge | None = None, max_judged: int = 2,
    articles: Mapping[str, str] | None = None,
) -> Verdict:
    """The verdict on one claim against the given passages, best first (module doc). At most
    `max_judged` windows are put to the judgement, those sharing most words first."""
    claim = strip_markers(claim).strip()
    if not passages:
        return Verdict(claim, "no_evidence", "no passage to check against")
    if not content_words(claim):
        return Verdict(claim, "unsupported", "nothing to check: the sentence has no content words")
    asked = _asked(question)
    every = [v for p in passages for v in _assess(claim, p, question, asked, (articles or {}).get(p.article_id, ""))]
    best = max(every, key=_rank)
    th = lexicon().thresholds
    if best.supported:
        return _contrast(_second_look(best, judge, th["judge_veto"]), judge, th["judge_contrast"])
    undecided = sorted((v for v in every if v.reason.startswith("coverage:") and v.coverage >= th["judge"]),
                       key=lambda v: -v.coverage)
    if judge is not None:
        for v in undecided[:max_judged]:
            date, title = (v.passage.date, v.passage.title) if v.passage else (None, "")
            said = judge(claim, v.evidence, date, title)
            # no on the window alone: read again beside the article's sentences that give the question's premise,
            # where a yes must clear the rescue's stricter bar (thresholds.toml `judge_rescue`)
            premise = "" if said else _premise(claim, v, question, (articles or {}).get(v.passage.article_id, "")
                                                if v.passage else "")
            if said or (premise and judge(claim, f"{v.evidence} ... {premise}", date, title, cut=th["judge_rescue"])):
                v.verdict, v.judged = "supported", True
                v.reason = f"every check passed; the model judged the evidence to state it ({v.coverage:.0%} of its words)"
                if premise:
                    v.reason += f", the question's premise as its article gives it: {premise!r}"
                return _contrast(v, judge, th["judge_contrast"])
            v.judged = True
            v.reason = f"the model judged that the evidence does not state it ({v.coverage:.0%} of its words shared)"
    if (appealed := _appeal(every, judge)) is not None:
        return _contrast(appealed, judge, th["judge_contrast"])
    contradicted = [v for v in every if v.verdict == "contradicted"]
    return max(contradicted, key=lambda v: v.coverage) if contradicted else best


PREMISE_SENTENCES = 2  # article sentences at most put beside a window to give the question's premise


def _premise(claim: str, v: Verdict, question: str, article: str) -> str:
    """The sentences of the window's article, outside the window, that give the words of the question a claim
    repeats and its window lacks ("Enbridge owns the pipeline whose explosion killed two workers" over "Enbridge,
    the company that owns the line"): the judgement reads them beside the window, so a right answer that restates
    the question is not refused for the premise its window leaves out, while a premise its article never gives
    still is. At most PREMISE_SENTENCES, each adding some of those words, in article order; "" when none or when
    they give under half of them."""
    if not question or not article:
        return ""
    missing = (content_words(claim) & content_words(question)) - content_words(v.evidence)
    if not missing:
        return ""
    window = fold(v.evidence)
    pool = [(content_words(t) & missing, i, t) for i, (a, b) in enumerate(sentences(article))
            if (t := article[a:b]) and fold(t) not in window and window not in fold(t)]
    chosen: list[tuple[int, str]] = []
    left = set(missing)
    for _ in range(PREMISE_SENTENCES):
        gain, i, t = max(((g & left, i, t) for g, i, t in pool), key=lambda x: (len(x[0]), -x[1]), default=(set(), 0, ""))
        if not gain:
            break
        chosen.append((i, t))
        left -= gain
    if len(left) * 2 > len(missing):
        return ""
    return " ".join(t for _, t in sorted(chosen))


def _appeal(every: list[Verdict], judge: Judge | None) -> Verdict | None:
    """The window a check rejected that the judgement firmly says states the claim (P(YES) at or above
    `judge_appeal`), when every check it failed is one the judgement may outweigh (thresholds.toml `appeal`: the
    figures' order, polarity; not roles, which the model reads poorly) and it shares at least `judge` of the
    claim's words. A name, figure or date the evidence does not give (`ungrounded`) never appeals: it must be
    grounded, whatever the model reads. One window is asked, the one sharing most words; None when there is none
    or the answer is no."""
    lex = lexicon()
    th = lex.thresholds
    if judge is None:
        return None
    rejected = [v for v in every if v.passage is not None and not v.supported and not v.judged
                and v.coverage >= th["judge"] and (failed := [c for c in v.checks if not c.ok])
                and all(c.name in lex.appeal and not c.ungrounded for c in failed)]
    if not rejected:
        return None
    v = max(rejected, key=lambda v: v.coverage)
    p = v.passage
    assert p is not None
    q = judge.probability(v.claim, v.evidence, p.date, p.title)
    if q is None or q < th["judge_appeal"]:
        return None
    v.verdict, v.judged = "supported", True
    v.reason = f"the model judged the evidence to state it (P(yes) {q:.2f}) over the check {v.reason!r}"
    return v


def _second_look(v: Verdict, judge: Judge | None, veto: float) -> Verdict:
    """A sentence the checks pass without repeating its evidence word for word is put to the judgement too; a
    firm no (P(YES) under `judge_veto`) outweighs the checks, which miss some ways of saying the opposite
    ("declared valid despite a low turnout" over "declared null and void due to a low turnout"). Out of budget,
    or with no judgement, the checks stand."""
    if judge is None or v.judged or v.coverage >= 0.999 or v.passage is None:
        return v
    p = judge.probability(v.claim, v.evidence, v.passage.date, v.passage.title)
    if p is not None and p < veto:
        v.verdict, v.judged = "unsupported", True
        v.reason = f"the model judged that the evidence does not state it (P(yes) {p:.2f}), though every check passed"
    return v


_WORD = re.compile(r"[\w'$%.-]+")


def _run(text: str) -> str:
    """The text's folded words, space-separated with a space at each end, to find one text's words as a run of
    another's."""
    words = (w.strip(".") for w in _WORD.findall(fold(text)))
    return f" {' '.join(words)} "


def _copied(claim: str, evidence: str) -> bool:
    """The claim is a run of its evidence's words, in order ("Microsoft sued Google" in "... Microsoft sued Google
    in a Seattle court"): its names are where the evidence puts them."""
    return _run(claim) in _run(evidence)


def _contrast(v: Verdict, judge: Judge | None, margin: float) -> Verdict:
    """A supported claim whose names, turned round or replaced by another of the evidence's, read to the
    judgement as better supported than the claim itself (P(YES) higher by `margin`) credits the evidence's deed
    to the wrong one (rag.verify.contrast). Asked only when the judge's budget holds every call it needs."""
    if judge is None or not v.supported or v.passage is None or _copied(v.claim, v.evidence):
        return v
    others = contrast.variants(v.claim, v.evidence)
    if not others or (judge.budget is not None and judge.calls + len(others) + 1 > judge.budget):
        return v
    p = v.passage
    p0 = judge.probability(v.claim, v.evidence, p.date, p.title)
    if p0 is None or p0 + margin >= 1.0:  # no variant can read better by the margin: P(YES) is at most 1
        return v
    for alt in others:
        q = judge.probability(alt, v.evidence, p.date, p.title)
        if q is not None and q > p0 + margin:
            v.verdict, v.judged = "unsupported", True
            v.reason = f"roles: the model reads the evidence as saying {alt!r} rather (P(yes) {q:.2f} against {p0:.2f})"
            break
    return v


_CLAUSE = re.compile(r"(,\s+(?:and|but|while|whereas)\s+|;\s+|\s+and\s+(?=[A-Z0-9$£€]))")


def _is_clause(text: str) -> bool:
    return any(t.dep_ == "ROOT" and t.pos_ in ("VERB", "AUX") for t in _doc(text))


def _subjectless(text: str) -> bool:
    """A verb phrase without its subject ("had great confidence in their robustness"): not a sentence of its own."""
    return any(t.dep_ == "ROOT" and t.pos_ in ("VERB", "AUX") and not any(
        c.dep_ in ("nsubj", "nsubjpass", "expl", "csubj") for c in t.children) for t in _doc(text))


def _clauses(sentence: str) -> list[str]:
    """The clauses of a compound sentence, each a sentence of its own (at least three words), or []. A bare "and"
    (no comma) parts two clauses only ("Bush picked Gates and Schumer won Virginia"), not two names: "The judge who
    granted the injunction in England and Wales was Ramsey" gives no clause "Wales was Ramsey", and "sentenced to
    fifteen years and 1,500 lashes, and he returned on Friday" gives two clauses, not three. A part without its
    own subject stays with the part before it: "..., but had great confidence in their robustness" shown alone
    would not say who had it.

    >>> _clauses("He was sentenced to fifteen years and 1,500 lashes, and he returned to Egypt on Friday.")
    ['He was sentenced to fifteen years and 1,500 lashes.', 'He returned to Egypt on Friday.']
    >>> _clauses("The judge who granted the injunction in England and Wales was Ramsey.")
    []
    >>> _clauses('He said the recorders were damaged, but had "great confidence" in their robustness.')
    []
    """
    bits = _CLAUSE.split(sentence)
    pieces, joins = [bits[0]], bits[1::2]
    for sep, bit in zip(joins, bits[2::2], strict=True):
        if sep.strip() == "and" and not (_is_clause(pieces[-1]) and _is_clause(bit)) or _subjectless(bit):
            pieces[-1] = f"{pieces[-1]}{sep}{bit}"
        else:
            pieces.append(bit)
    pieces = [p.strip(" ,;.") for p in pieces]
    pieces = [p[0].upper() + p[1:] + "." for p in pieces if len(p.split()) >= 3]
    return pieces if len(pieces) >= 2 else []


_PREMISE_START = re.compile(r",\s+|\s+(?=(?:when|after|before|as|while|since|following|under|in|on|during)\s)", re.I)


def without_premise(claim: str, question: str) -> str:
    """The claim without a clause it copies from the question (the question's premise, at the end or at the
    start, at least three words), if at least three words remain; else "".

    >>> without_premise("H&F was DoubleClick's owner when Google agreed to buy it.",
    ...                 "Which firm was DoubleClick's owner when Google agreed to buy it?")
    "H&F was DoubleClick's owner."
    >>> without_premise("After the storm hit Manila, 40 people died.", "How many died after the storm hit Manila?")
    '40 people died.'
    >>> without_premise("Gates replaced Rumsfeld.", "Who replaced Rumsfeld?")
    ''
    """
    if not question:
        return ""

    asked = _run(question)

    def copied(part: str) -> bool:
        said = _run(part)
        return len(said.split()) >= 3 and said in asked

    body = claim.strip().rstrip(".!?")
    for m in _PREMISE_START.finditer(body):  # a trailing premise: from a comma or a linking word to the end
        head, tail = body[: m.start()], body[m.end():] if m.group(0).startswith(",") else body[m.start():]
        if copied(tail) and len(head.split()) >= 3:
            return head.strip(" ,") + "."
    lead = re.match(r"^([^,]{8,}),\s+(.+)$", body)  # a leading premise: "After the storm hit Manila, ..."
    if lead and copied(lead.group(1)) and len(lead.group(2).split()) >= 3:
        rest = lead.group(2)
        return rest[0].upper() + rest[1:] + "."
    return ""


def own_words(claim: str, question: str) -> str:
    """The claim without every run of two or more words it copies from the question, and without the function
    words left between them: what it answers.

    >>> own_words("The Walt Disney Company obtained Oswald the Lucky Rabbit from NBC Universal in 2006.",
    ...           "Which character did the Walt Disney Company obtain from NBC Universal in 2006?")
    'obtained Oswald the Lucky Rabbit'
    >>> own_words("The Royal Navy submarine ran into rocks in the Red Sea.", "A Royal Navy submarine ran into rocks in May?")
    'the Red Sea'
    """
    asked = _run(question)
    words = _WORD.findall(claim)
    low = [_run(w).strip() for w in words]
    keep = [True] * len(words)
    i = 0
    while i < len(words):
        j = next((j for j in range(len(words), i + 1, -1) if f" {' '.join(low[i:j])} " in asked), i)
        for k in range(i, j):
            keep[k] = False
        i = max(j, i + 1)
    pieces: list[list[str]] = [[]]
    for w, k in zip(words, keep, strict=True):
        if k:
            pieces[-1].append(w)
        elif pieces[-1]:
            pieces.append([])
    # a piece of function words only ("The" before the question's own words) says nothing of its own
    return " ".join(" ".join(x) for x in pieces if content_words(" ".join(x))).strip(" .,;")


def answers_question(claim: str, passages: Sequence[Passage], question: str, judge: Judge | None) -> Verdict | None:
    """The last look at an answer's sentence that every other way has dropped: a window that gives what the
    sentence adds to the question (`own_words`: its names, figures and dates grounded there, quotes verbatim,
    polarity kept), and that the judgement, asked whether the evidence gives this answer to this question
    (prompts/judge_answer.md), firmly says does (P(YES) at or above `judge_answer`). What the sentence repeats of
    the question is the reader's premise ("The Royal Navy submarine ran into rocks in the Red Sea" over "a navy
    submarine from the United Kingdom crashed into rocks in the Red Sea", asked where the Royal Navy submarine ran
    into rocks): it need not be in the window. Only for a sentence that names someone or something the question
    does not. None when there is no question, no judgement, no such name, or no such window."""
    if judge is None or not question or not passages:
        return None
    own = own_words(claim, question)
    if not content_words(own):
        return None
    asked = _asked(question)
    given = tuple(numbers(question))
    qf = _claim(question, None)
    best: tuple[float, Verdict] | None = None
    for p in passages:
        cf = _claim(claim, p.date)
        mine = replace(cf, names=[n for n in cf.names if not all(w in asked for w in n)])
        if not mine.names:
            # it names no one the question did not: a figure or a date alone is left to the other checks, since
            # what it is a figure of is the question's wording, which this look excuses ("was 109" for "how many
            # years older was A than B?")
            continue
        for cov, s, e, wf, parts in _candidates(claim, p, question):
            text = p.text[s:e]
            results = [checks.quotes(claim, text), checks.names(mine, wf, p.title, p.text),
                       checks.numbers(cf, wf, given), checks.dates(_own_dates(cf, qf, wf, p.date), wf, p.date,
                                                                   question, parts),
                       checks.polarity(cf, wf, qf), checks.modality(cf, wf, qf), checks.event(cf, qf)]
            if all(c.ok for c in results) and (best is None or cov > best[0]):
                best = (cov, Verdict(claim, "supported", "", p, p.start + s, p.start + e, cov, results))
    if best is None:
        return None
    v = best[1]
    assert v.passage is not None
    q = judge.probability(own, v.evidence, v.passage.date, v.passage.title, question=question)
    if q is None or q < lexicon().thresholds["judge_answer"]:
        return None
    v.judged = True
    v.reason = (f"the model judged the evidence to give this answer ({own!r}) to the question (P(yes) {q:.2f}); "
                "what it repeats of the question is the question's")
    return v


def _own_dates(claim: Facts, question: Facts, window: Facts, published: str | None) -> Facts:
    """The claim without the dates it repeats from the question (the reader's premise, like its names and
    figures: "the wines announced in February 2007 as a Vancouver 2010 sponsorship"), provided one of them
    holds the article's publication day or a date of the window: a premise of another time than the article's
    is still checked, so that an answer from an article of 2005 is not shown for a question about 2007."""
    asked = [c for c in claim.dates if any(c.lo == q.lo and c.hi == q.hi for q in question.dates)]
    if not asked:
        return claim
    pub = published_day(published)
    if not any((pub and c.lo <= pub <= c.hi) or any(w.within(c) for w in window.dates) for c in asked):
        return claim
    return replace(claim, dates=[c for c in claim.dates if c not in asked])


def _cite(claim: str, v: Verdict, out: Verified, cites: dict[tuple[str, int, int], int]) -> str:
    """The claim with the marker of its supporting window, adding the citation if it is new."""
    assert v.passage is not None
    k = (v.passage.article_id, v.start, v.end)
    if k not in cites:
        cites[k] = len(out.citations) + 1
        p = v.passage
        out.citations.append(Citation(cites[k], p.article_id, p.title, p.date, p.url, v.start, v.end, v.evidence))
    mark = f"[{cites[k]}]"
    body = claim if claim[-1] in ".!?\"'”" else claim + "."
    return body[:-1] + " " + mark + body[-1] if body[-1] in ".!?" else body + " " + mark


@dataclass
class Verified:
    answer: str
    citations: list[Citation]
    dropped: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why each dropped sentence was dropped
    verdicts: list[Verdict] = field(default_factory=list)  # of the kept sentences


def verify(
    answer: str,
    context: list[Passage],
    question: str = "",
    extra: Sequence[Passage] = (),
    judge: Judge | None = None,
    articles: Mapping[str, str] | None = None,
) -> Verified:
    """Keep only supported sentences, each cited by the window that supports it (module doc).

    `extra` passages (e.g. the whole articles behind sentence-sized context passages) have no number
    the model could cite; they are searched, after the context, only for a sentence whose cited
    passages do not support it. `articles` (id -> whole text): where a name the question uses, repeated
    by a sentence, may be found."""
    kept: list[str] = []
    out = Verified("", [])
    cites: dict[tuple[str, int, int], int] = {}
    text = answer.strip()
    for s, e in sentences(text):
        raw = text[s:e]
        claim = strip_markers(raw)
        if not claim or not content_words(claim):
            continue
        named = [context[n - 1] for n in parse_markers(raw) if 1 <= n <= len(context)]
        v = check_claim(claim, named, question, judge, articles=articles) if named else None
        if v is None or not v.supported:
            others = [p for p in [*context, *extra] if p not in named]
            w = check_claim(claim, others, question, judge, articles=articles) if others else None
            if w is not None and (w.supported or v is None):
                v = w
        if (v is None or not v.supported) and (parts := _clauses(claim)):
            # one wrong clause need not sink the others: "Bush picked Gates, and Schumer won Virginia"
            kept_parts = [(c, w) for c in parts
                          if (w := check_claim(c, [*context, *extra], question, judge, articles=articles)).supported]
            if kept_parts:
                for c, w in kept_parts:
                    kept.append(_cite(c, w, out, cites))
                    out.verdicts.append(w)
                dropped = [c for c in parts if c not in dict(kept_parts)]
                out.dropped += dropped
                out.reasons += [f"a clause of a sentence that failed as a whole ({v.reason if v else ''})"] * len(dropped)
                continue
        if (v is None or not v.supported) and judge is not None and (core := without_premise(claim, question)):
            # what the question itself supposes is the reader's, not the answer's: "X was the majority owner
            # when Google agreed to buy it" is checked, and shown, as "X was the majority owner"; a sentence
            # rescued so is kept only with the judgement's yes, the checks' alone being too weak a bar
            w = check_claim(core, [*context, *extra], question, judge, articles=articles)
            if w.supported and w.passage is not None and judge(core, w.evidence, w.passage.date, w.passage.title,
                                                               cut=lexicon().thresholds["judge_rescue"]):
                kept.append(_cite(core, w, out, cites))
                out.verdicts.append(w)
                continue
        if (v is None or not v.supported) and (w := answers_question(claim, [*context, *extra], question,
                                                                      judge)) is not None:
            kept.append(_cite(claim, w, out, cites))
            out.verdicts.append(w)
            continue
        if v is None or not v.supported or v.passage is None:
            out.dropped.append(claim)
            out.reasons.append(v.reason if v else "no passage to check against")
            continue
        kept.append(_cite(claim, v, out, cites))
        out.verdicts.append(v)
    out.answer = " ".join(kept)
    return out
