"""Who did what, asked of the judgement by contrast: the claim with its names turned round or replaced.

A role swap keeps every word of its evidence ("Chairman Colichman and CEO Jarchow" over "Chairman Jarchow and
CEO Colichman"), so the explicit checks only catch it where the parse is right, and the judgement, asked about
the claim alone, often says yes. Asked about the claim and about its variants, the model tells them apart
better: when a variant, the claim with two of its names swapped or one of them replaced by another name of
the evidence, reads as better supported than the claim itself (its P(YES) higher by `judge_contrast`,
rag/verify/thresholds.toml), the claim has credited the evidence's deed to the wrong one.

Names are spaCy's entities (people and organisations as one kind, places and nationalities as another); a
variant swaps two of the claim's names of one kind that the evidence gives, or puts a name of the evidence that
the claim does not use in place of one of the claim's of the same kind (names of one label first); places are
swapped, never replaced, since one place of the evidence may hold another (Khartoum, Sudan).

Not handled: roles between unnamed things ("economy class", "business class"); lists (three justices in the
majority, five dissenting), where a single swap reads no better than the claim.
"""

from __future__ import annotations

from itertools import combinations

from rag.verify.facts import _doc
from rag.verify.lexicon import fold

# spaCy's kinds of name, grouped: its small model tells a person from an organisation poorly ("Martin" an ORG,
# "Keller" a PERSON in one sentence), and either can be a doer; places and nationalities are another group.
KINDS = {"PERSON": "doer", "ORG": "doer", "GPE": "place", "NORP": "place"}
MAX_VARIANTS = 3  # model calls per claim, beyond the claim's own


def _names(text: str) -> list[tuple[str, str]]:
    """The text's names as written (a possessive left off), with spaCy's label, in order, once each (the first,
    fullest, of those ending in the same word: "Susan Sarandon", then "Sarandon")."""
    out: dict[str, tuple[str, str]] = {}
    for e in _doc(text).ents:
        if e.label_ in KINDS and e.text[:1].isupper():
            name = e.text.removesuffix("'s").removesuffix("’s")
            out.setdefault(_last(name), (name, e.label_))
    return list(out.values())


def _last(name: str) -> str:
    return fold(name.split()[-1])


def variants(claim: str, evidence: str) -> list[str]:
    """The claim with two names swapped, then with one name replaced by another of the evidence (module doc).

    >>> variants("Chairman Paul Colichman and CEO Stephen Jarchow will lead Here Media.",
    ...          "Here Media will be led by Chairman Stephen Jarchow and CEO Paul Colichman.")
    ['Chairman Stephen Jarchow and CEO Paul Colichman will lead Here Media.', 'Chairman Media and CEO Stephen Jarchow will lead Here Paul Colichman.', 'Chairman Paul Colichman and CEO Media will lead Here Stephen Jarchow.']
    >>> variants("Martin Sheen narrated the documentary.", "Among them were Martin Sheen and Susan Sarandon; "
    ...          "Sarandon narrated the documentary.")
    ['Susan Sarandon narrated the documentary.']
    """
    ours, theirs, ev = _names(claim), _names(evidence), fold(evidence)
    said = fold(claim)
    given = [(n, k) for n, k in ours if fold(n) in ev or _last(n) in ev]
    out = []  # (same label, variant): names of one label first ("Colichman" for "Jarchow" before "Here Media")
    for (a, ka), (b, kb) in combinations(given, 2):
        if KINDS[ka] == KINDS[kb] and a not in b and b not in a:
            out.append((ka == kb, claim.replace(a, "\0").replace(b, a).replace("\0", b)))
    for n, k in ours:
        for m, km in theirs:  # a place is not replaced: another place of the evidence may hold it ("the arrest in
            # Khartoum" and "the arrest in Sudan" are both true), where one doer does not hold another
            if KINDS[km] == KINDS[k] == "doer" and _last(m) not in said and _last(n) not in fold(m):
                out.append((km == k, claim.replace(n, m)))
    ranked = [v for same, v in sorted(out, key=lambda x: not x[0]) if v != claim]  # a stable sort keeps the order
    return list(dict.fromkeys(ranked))[:MAX_VARIANTS]
