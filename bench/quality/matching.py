"""Text matching for the quality tests: folding, approximate search, word edit distance.

* ``fold``: Unicode NFKC, case-folded, typographic quotes and dashes made ASCII, soft hyphens
  dropped, hyphens *inside* words removed together with any space after them ("docu- ment",
  "docu-ment" and "document" all fold to "document"), whitespace collapsed. Gold and output are
  folded alike, so only wording differences remain.
* ``find``: where a folded needle occurs in a folded text with at most ``max_diffs`` edits
  (Levenshtein: insertions, deletions, substitutions). ``max_diffs`` 0 is a plain substring
  search; otherwise Myers' bit-parallel approximate search (1999) runs over the text, which is
  what omni_parse_bench's ``fuzzysearch`` does with ``max_l_dist``.
* ``word_errors``: the word-level Levenshtein distance, for 1 - WER.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00ad": None,
        "\u00a0": " ",
    }
)
_WORD_HYPHEN = re.compile(r"(?<=\w)-\s*(?=\w)")
_SPACE = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w]+")


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE).casefold()
    return _SPACE.sub(" ", _WORD_HYPHEN.sub("", text)).strip()


def words(text: str) -> list[str]:
    """Lower-case words without punctuation ("24.3%" → "243"), for word accuracy."""
    tokens = (_NOT_WORD.sub("", token) for token in fold(text).split())
    return [token for token in tokens if token]


def _approximate_ends(needle: str, text: str, max_diffs: int) -> Iterator[int]:
    """Indexes in ``text`` where a match of ``needle`` with ≤ ``max_diffs`` edits ends.

    Myers' bit-vector algorithm in the search setting (a match may start anywhere): column j
    holds the edit distances of every prefix of ``needle`` against text ending at j; the last
    row's value is tracked incrementally as ``score``.
    """
    m = len(needle)
    full = (1 << m) - 1
    high = 1 << (m - 1)
    peq: dict[str, int] = {}
    for index, char in enumerate(needle):
        peq[char] = peq.get(char, 0) | (1 << index)
    pv, mv, score = full, 0, m
    for position, char in enumerate(text):
        eq = peq.get(char, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = (ph << 1) & full
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
        if score <= max_diffs:
            yield position


def find(needle: str, text: str, max_diffs: int = 0) -> int:
    """The start of the first match of folded ``needle`` in folded ``text``, or -1.

    For approximate matches the start is estimated as the end minus the needle's length.
    """
    if not needle:
        return 0
    exact = text.find(needle)
    if exact >= 0 or max_diffs <= 0:
        return exact
    if max_diffs >= len(needle):
        return 0
    for end in _approximate_ends(needle, text, max_diffs):
        return max(0, end + 1 - len(needle))
    return -1


def count(needle: str, text: str, max_diffs: int = 0) -> int:
    """Non-overlapping occurrences of folded ``needle`` in folded ``text``, as whole words
    (exact matches) or as disjoint approximate matches."""
    if not needle:
        return 0
    if max_diffs <= 0:
        return len(re.findall(rf"(?<!\w){re.escape(needle)}(?!\w)", text))
    found, last_end = 0, -len(needle) - max_diffs - 1
    for end in _approximate_ends(needle, text, max_diffs):
        if end - last_end > len(needle) - max_diffs:
            found += 1
            last_end = end
    return found


def distance(a: Sequence[object], b: Sequence[object]) -> int:
    """Levenshtein distance between two sequences (characters or words)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, item in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (item != other))
            )
        previous = current
    return previous[-1]


def same(gold: str, output: str, max_diffs: int = 0) -> bool:
    """Whether two folded strings are equal within ``max_diffs`` edits."""
    if max_diffs <= 0:
        return gold == output
    if abs(len(gold) - len(output)) > max_diffs:
        return False
    return distance(gold, output) <= max_diffs
