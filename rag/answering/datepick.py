"""A date one input of a time span needs ("How many days after A did B?", asked as "When did A?" and "When did B?"),
picked from the evidence when the model's own answer gave none.

The small local model often answers such a part with the question's words and no date, or with a date its cited
passage does not hold, and it picks badly from a numbered list. A yes/no question about one sentence it reads
well: each sentence of the evidence that holds a date (resolved against its article's publication day, as in the
answer prompt) is put to it as "does this sentence give the date of the event asked about?"
(prompts/date_pick.md), and the sentence with the highest P(YES), if it reaches thresholds.toml `date_pick` and
leads the next by `date_pick_margin`, is quoted verbatim with its passage's number, verified like any answer
sentence, and code reads its date (rag.answering.derive). The model decides which event a sentence dates; code
decides which sentences hold dates and what the dates are.

Tried the same way for the figures of a difference, sum or ratio (session 28): on 23 tune questions it fired 5
times, picked once, and that pick was a wrong figure ("hundreds of millions" for a registry's cost), so figures are
not picked.
"""

from __future__ import annotations

import time

from rag.answering.evidence import header, shown
from rag.chunk import sentences
from rag.cite import parse_markers, strip_markers
from rag.models.llm import ChatModel
from rag.prompts import load_prompt
from rag.textdates import mentions
from rag.types import Passage
from rag.verify import Verified
from rag.verify.lexicon import lexicon

MAX_SENTENCES = 8  # one short model call each: the strongest passages' sentences first


def holds(sentence: str, published: str | None, kind: str) -> bool:
    """Whether a sentence holds the date an input of `kind` needs: "day" one day ("on Monday", "3 March"), "any" any
    date (a month or a year will do).

    >>> holds("Polls open on March 4.", "2008-02-14", "day"), holds("It was cold.", "2008-02-14", "any")
    (True, False)
    >>> holds("Talks began in 2007.", None, "day"), holds("Talks began in 2007.", None, "any")
    (False, True)
    """
    return any(m.lo == m.hi or kind == "any" for m in mentions(sentence, published))


def offered(passages: list[Passage], kind: str) -> list[tuple[int, str]]:
    """(1-based passage number, sentence) for each sentence of the passages that `holds` a `kind` input, in passage
    order, at most MAX_SENTENCES.

    >>> p = Passage("c", "a", "T", "2008-02-14", None, 0, 60, "Polls open on March 4. It was cold. Talks began in 2007.")
    >>> offered([p], "day"), offered([p], "any")[1]
    ([(1, 'Polls open on March 4.')], (1, 'Talks began in 2007.'))
    """
    out: list[tuple[int, str]] = []
    for n, p in enumerate(passages, 1):
        out += [(n, p.text[a:b]) for a, b in sentences(p.text) if holds(p.text[a:b], p.date, kind)]
    return out[:MAX_SENTENCES]


def given(checked: Verified, kind: str) -> bool:
    """Whether a verified answer states the date a `kind` input needs itself (see `holds`), read against its cited
    article's day.

    >>> from rag.types import Citation
    >>> c = Citation(1, "a", "T", "2008-02-14", None, 0, 9, "x")
    >>> given(Verified("It is on March 4 [1].", [c]), "day"), given(Verified("It is in March [1].", [c]), "day")
    (True, False)
    >>> given(Verified("", []), "any")
    False
    """
    by_n = {c.n: c for c in checked.citations}
    for a, b in sentences(checked.answer):
        s = checked.answer[a:b]
        ns = parse_markers(s)
        c = by_n.get(ns[0]) if ns else None
        if c and holds(strip_markers(s), c.date, kind):
            return True
    return False


def pick(question: str, passages: list[Passage], llm: ChatModel, kind: str) -> tuple[str | None, dict[str, float]]:
    """The evidence sentence the model most believes dates the question's event (a `kind` date), written as an
    answer sentence with its passage's marker ("Polls open on March 4 [1]."), and the cost of asking (calls,
    seconds); None when no sentence holds such a date, no sentence's P(YES) reaches thresholds.toml `date_pick`, the
    best does not lead the next by `date_pick_margin`, or the model gives no probabilities (a server without log
    probabilities)."""
    choices = offered(passages, kind)
    believe = getattr(llm, "yes_probability", None)
    cost = {"calls": 0.0, "seconds": 0.0}
    if not choices or believe is None:
        return None, cost
    prompt = load_prompt("date_pick", {"sentence", "question"})
    t0 = time.monotonic()
    read: list[tuple[float, int]] = []
    for i, (n, s) in enumerate(choices):
        p = believe(*prompt.render(sentence=f"{header(passages[n - 1])} {shown(s, passages[n - 1].date)}", question=question))
        cost["calls"] += 1
        if p is None:
            return None, cost
        read.append((p, -i))  # the stronger passage's sentence on a tie
    cost["seconds"] = round(time.monotonic() - t0, 3)
    read.sort(reverse=True)
    cut = lexicon().thresholds
    if read[0][0] < cut["date_pick"] or (len(read) > 1 and read[0][0] - read[1][0] < cut["date_pick_margin"]):
        return None, cost  # no sentence believed, or two about as much: the model cannot tell which dates the event
    n, s = choices[-read[0][1]]
    body = s.rstrip()
    end = body[-1] if body[-1:] in ".!?" else "."
    return f"{body.rstrip('.!?')} [{n}]{end}", cost
