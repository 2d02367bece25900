"""What the index knows about words: did-you-mean, completions, original spellings.

The index holds normalized forms (``الفلسطينيه``); people must be shown words as
they are written (``الفلسطينية``). :func:`surface` finds an article that uses a term
and reads the word back from its stored text.
"""

from __future__ import annotations

import heapq
from typing import Callable

from pyarabic import araby

from search.analysis import EXACT_MARK, STOPWORDS, TOKEN_PATTERN
from search.arabic import is_arabic, normalize, stem
from search.view import IndexView
from search.querylang import Word, analyze

#: Letters a typo may replace or insert (normalized forms: no ة ى أ إ آ).
ARABIC_LETTERS = "ءابتثجحخدذرزسشصضطظعغفقكلمنهويؤئ"
LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: A correction must be used by at least this many articles.
MIN_SUGGESTION_DF = 3
MAX_WORD = 25  # longer "words" are not typos
#: Typo tolerance (spelling_variants): shortest word it applies to, how many variants,
#: and how many unknown words of one query are looked at (did-you-mean too).
TYPO_MIN_LETTERS = 5
MAX_TYPO_VARIANTS = 8
MAX_TYPO_WORDS = 5


def indexed_form(word: str) -> str:
    """The index term of a normalized surface word (its exact form, or itself when the
    stemmer leaves it alone)."""
    root = stem(word)
    return word if root == word else EXACT_MARK + word


def _frequency(view: IndexView, term: str) -> int:
    return max(view.doc_frequency("body", term), view.doc_frequency("title", term))


def _known(view: IndexView, word: Word) -> bool:
    """Some article uses the word (under its stem or its other reading's)."""
    return bool(_frequency(view, word.stem) or (word.other and _frequency(view, word.other)))


def _edits(word: str) -> set[str]:
    """Every string one edit away: a letter deleted, swapped, replaced or inserted."""
    letters = ARABIC_LETTERS if is_arabic(word) else LATIN_LETTERS
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in letters}
    out |= {a + c + b for a, b in splits for c in letters}
    out.discard(word)
    return out


def _known_edits(view: IndexView, word: str) -> list[tuple[int, str]]:
    """(articles using it, word) for every indexed word one edit away from the normalized
    ``word``, most used first (ties alphabetically)."""
    def lookup():
        if not 3 <= len(word) <= MAX_WORD or word.isdigit():
            return []
        found = ((_frequency(view, indexed_form(candidate)), candidate) for candidate in _edits(word))
        return sorted((pair for pair in found if pair[0]), key=lambda pair: (-pair[0], pair[1]))
    return view.remember(("edits", word), lookup)


def correct(view: IndexView, word: str) -> str | None:
    """The most used indexed word one edit away from the normalized ``word`` (used by at
    least MIN_SUGGESTION_DF articles)."""
    known = _known_edits(view, word)
    return known[0][1] if known and known[0][0] >= MIN_SUGGESTION_DF else None


def typo_tolerance(view: IndexView) -> Callable[[Word], list[Word]]:
    """:func:`spelling_variants` for the words of one query, the first MAX_TYPO_WORDS
    unknown ones only: each costs hundreds of lexicon lookups, and a pasted paragraph of
    unknown words must not cost a scan per word."""
    left = MAX_TYPO_WORDS

    def variants(word: Word) -> list[Word]:
        nonlocal left
        found = spelling_variants(view, word) if left > 0 else None
        if found is None:
            return []
        left -= 1
        return found
    return variants


def spelling_variants(view: IndexView, word: Word) -> list[Word] | None:
    """Typo tolerance, as Meilisearch and Elasticsearch's ``fuzziness`` give it: for a query
    word of at least TYPO_MIN_LETTERS letters that no article uses, the most used words one
    edit away that articles do use (``جاجارين`` finds ``غاغارين``, ``هيلفرسم`` ``هيلفرسوم``).
    Known words get None (not looked up): a correct word is never widened into its
    neighbours; so do words shorter than TYPO_MIN_LETTERS."""
    if len(word.surface) < TYPO_MIN_LETTERS or _known(view, word):
        return None
    return [analyze(candidate, keep_stopwords=True)[0]
            for _, candidate in _known_edits(view, word.surface)[:MAX_TYPO_VARIANTS]]


def did_you_mean(view: IndexView, query: str, words: list[tuple[str, Word]]) -> str | None:
    """The query with each word the index does not know replaced by the closest known
    one, written as articles write it; None when every word is known or none can be
    corrected."""
    corrected = query
    changed = False
    unknown = [(typed, word) for typed, word in words
               if TOKEN_PATTERN.fullmatch(typed) and not _known(view, word)]
    for typed, word in unknown[:MAX_TYPO_WORDS]:
        fix = correct(view, normalize(typed))
        if fix is None:
            continue
        corrected = corrected.replace(typed, surface(view, indexed_form(fix)) or fix, 1)
        changed = True
    return corrected if changed else None


def completions(view: IndexView, query: str, limit: int = 8) -> list[str]:
    """Queries completing the last word of ``query`` with the most used title words that
    start with it (then body words when titles have too few)."""
    head, _, last = query.rstrip().rpartition(" ") if not query.endswith(" ") else (query, "", "")
    tokens = TOKEN_PATTERN.findall(last)
    if len(tokens) != 1 or len(tokens[0]) != len(last):
        return []
    prefix = normalize(last)
    if len(prefix) < 2:
        return []
    found: dict[str, int] = {}
    for field in ("title", "body"):
        for text in (prefix, EXACT_MARK + prefix):
            for term in view.prefix_terms(field, text):
                word = term.removeprefix(EXACT_MARK)
                if word in STOPWORDS:
                    continue
                if term.startswith(EXACT_MARK) or stem(word) == word:  # a real surface form
                    found[word] = max(found.get(word, 0), _frequency(view, term))
        if len(found) >= limit:
            break
    best = heapq.nlargest(limit, found.items(), key=lambda kv: (kv[1], kv[0]))
    prefix_text = f"{head} " if head else ""
    out = []
    for word, _ in best:
        shown = surface(view, indexed_form(word)) or word
        if shown not in out:
            out.append(prefix_text + shown)
    return out


def surface(view: IndexView, term: str) -> str | None:
    """How articles write the word behind an index term (its first use in a title, else
    in a body), without diacritics or tatweel."""
    return view.remember(("surface", term), lambda: _find_surface(view, term))


def _find_surface(view: IndexView, term: str) -> str | None:
    word = term.removeprefix(EXACT_MARK)
    for field in ("title", "body"):
        docs, _ = view.postings(field, term)
        if not len(docs):  # no live article uses it
            continue
        text = view.stored(int(docs[0])).get(field) or ""
        for token in TOKEN_PATTERN.findall(text):
            if normalize(token) == word:
                return araby.strip_tatweel(araby.strip_diacritics(token))
    return None


def similar_terms(view: IndexView, text: str, limit: int) -> list[str]:
    """The stems that best characterise ``text`` (tf·idf), for "more like this"; terms in
    more than a tenth of the articles (half, in a small index) say little and are left out."""
    counts: dict[str, int] = {}
    for word in analyze(text):
        counts[word.stem] = counts.get(word.stem, 0) + 1
    count = view.count
    ceiling = count // 10 if count >= 1000 else count // 2
    scored = []
    for term, tf in counts.items():
        df = view.doc_frequency("body", term)
        if 1 < df <= ceiling:  # a word only this article uses finds nothing else
            scored.append((tf * view.idf("body", term), term))
    return [term for _, term in heapq.nlargest(limit, scored)]
