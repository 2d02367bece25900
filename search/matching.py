"""Which documents match a compiled query, and their BM25 scores, read term at a time.

Whoosh's own search walks a tree of matchers document by document; for a news query
of ten words over 85,000 articles that is seconds of Python method calls. Here each
query word's posting lists are read once, scores are accumulated per document in a
dict and the match sets come from Python's set algebra (C speed). The scores are the
ones Whoosh would give (same BM25 formula, idf, field lengths and boosts); phrase
groups, which need positions, are still matched and scored by Whoosh.
"""

from __future__ import annotations

import heapq
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from whoosh import query as wq
from whoosh.collectors import WrappingCollector
from whoosh.reading import TermNotFound

from search.errors import QueryTimeout
from search.ranking import B, K1

Scores = dict[int, float]
#: Seconds one search may take before it is abandoned (see :class:`Deadline`).
DEFAULT_TIME_LIMIT = 5.0
_CHECK_EVERY = 1024  # postings or documents between clock readings
#: A prefix query reads at most this many terms from the lexicon and keeps the most
#: frequent of them (as Lucene bounds its clause count): ``ا*`` must not read millions.
SCAN_EXPANSIONS = 5000
MAX_EXPANSIONS = 64
MEMO_SIZE = 2000
_MISSING = object()


class Deadline:
    """A per-search time limit that works in any thread. Whoosh's own TimeLimitCollector
    relies on SIGALRM, which only the main thread receives; this one is checked by the
    loops that walk postings and matching documents."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise QueryTimeout(f"the search took longer than {self.seconds:g} s and was stopped; "
                               "try fewer or rarer words, or filter by source or date")


class _DeadlineCollector(WrappingCollector):
    """Checks the deadline every few documents Whoosh collects."""

    def __init__(self, child, deadline: Deadline):
        super().__init__(child)
        self.deadline = deadline
        self.seen = 0

    def collect(self, sub_docnum):
        self.seen += 1
        if self.seen % _CHECK_EVERY == 0:
            self.deadline.check()
        return self.child.collect(sub_docnum)


class ViewData:
    """What the views of one index state derive from it: BM25 length norms per field, the
    live documents, column values, memos. Read-only once built, so the server's threads
    share one copy (each keeps its own searcher, which is not thread-safe)."""

    def __init__(self):
        self.norms: dict[str, list[float]] = {}
        self.all_docs: frozenset[int] | None = None
        self.columns: dict[str, list] = {}
        self.memo: dict = {}
        self.lock = threading.Lock()  # one thread builds what the others then read


class IndexView:
    """One searcher plus what scoring needs per document (:class:`ViewData`), computed
    once per index state (a searcher lives until the index changes)."""

    def __init__(self, searcher, fields: tuple[str, ...], data: ViewData | None = None):
        self.searcher = searcher
        data = data if data is not None else ViewData()
        with data.lock:
            if data.all_docs is None:  # first view of this index state
                reader = searcher.reader()
                total = reader.doc_count_all()
                for field in fields:
                    average = searcher.avg_field_length(field) or 1
                    # (A document without the field has no length; no posting will ask for it.)
                    data.norms[field] = [K1 * (1 - B + B * (reader.doc_field_length(d, field, 1) or 1) / average)
                                         for d in range(total)]
                data.all_docs = frozenset(reader.all_doc_ids())
        self._data = data
        self._norms = data.norms
        self.all_docs = data.all_docs
        self._columns = data.columns
        self._memo = data.memo
        self._readers: dict = {}  # column readers of this view's searcher (not shared)

    def value(self, name: str, docnum: int):
        """One document's value in a column, read on demand (for columns too large to keep
        in memory for every document, like ``stems``)."""
        reader = self._readers.get(name)
        if reader is None:
            reader = self._readers[name] = self.searcher.reader().column_reader(name)
        return reader[docnum]

    def column(self, name: str) -> list:
        """A sortable field's value for every document, read once (facets, date order)."""
        column = self._columns.get(name)
        if column is None:
            with self._data.lock:
                if name not in self._columns:
                    reader = self.searcher.reader()
                    self._columns[name] = (list(reader.column_reader(name)) if reader.has_column(name)
                                           else [None] * reader.doc_count_all())
                column = self._columns[name]
        return column

    def term_scores(self, term: wq.Term, into: Scores, deadline: Deadline) -> None:
        """Add ``term``'s BM25 contribution for every document containing it to ``into``."""
        searcher = self.searcher
        try:
            postings = searcher.reader().postings(term.fieldname, term.text)
        except TermNotFound:
            return
        norms = self._norms[term.fieldname]
        factor = term.boost * searcher.idf(term.fieldname, term.text) * (K1 + 1)
        get = into.get
        seen = 0
        while postings.is_active():
            docnum, tf = postings.id(), postings.weight()
            into[docnum] = get(docnum, 0.0) + factor * tf / (tf + norms[docnum])
            postings.next()
            seen += 1
            if seen % _CHECK_EVERY == 0:
                deadline.check()

    def remember(self, key, compute: Callable[[], object]):
        """A small memo for derived data that stays true as long as this index state
        (prefix expansions, original spellings); shared by threads, cleared when full."""
        value = self._memo.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[key] = value
        return value

    def expand_terms(self, field: str, prefix: str) -> list[str]:
        """The ``MAX_EXPANSIONS`` most frequent terms of ``field`` starting with ``prefix``
        (of at most ``SCAN_EXPANSIONS`` terms read from the lexicon), most frequent first."""
        def most_frequent():
            lexicon = self.searcher.reader().iter_prefix(field, prefix)
            found = [(info.doc_frequency(), term.decode("utf-8") if isinstance(term, bytes) else term)
                     for _, (term, info) in zip(range(SCAN_EXPANSIONS), lexicon)]
            return [text for _, text in heapq.nlargest(MAX_EXPANSIONS, found)]
        return self.remember(("prefix", field, prefix), most_frequent)

    def expand(self, prefix: wq.Prefix) -> list[wq.Term]:
        """A prefix query's terms, as Terms with its boost."""
        return [wq.Term(prefix.fieldname, text, boost=prefix.boost)
                for text in self.expand_terms(prefix.fieldname, prefix.text)]

    def whoosh_scores(self, q: wq.Query, deadline: Deadline) -> Scores:
        """Every document matching ``q`` with its score, by Whoosh's own matchers (phrases
        need positions), under the deadline."""
        collector = _DeadlineCollector(self.searcher.collector(limit=None), deadline)
        self.searcher.search_with_collector(q, collector)
        return {hit.docnum: hit.score for hit in collector.results()}


def _leaves(q: wq.Query) -> list[wq.Query] | None:
    """The Term, Prefix and DisjunctionMax leaves of an Or tree, or None if it holds
    anything else."""
    if isinstance(q, (wq.Term, wq.Prefix, wq.DisjunctionMax)):
        return [q]
    if isinstance(q, wq.Or):
        leaves = []
        for child in q.subqueries:
            sub = _leaves(child)
            if sub is None:
                return None
            leaves.extend(sub)
        return leaves
    return None


def _best_of(alternatives: Iterable[Scores]) -> Scores:
    """Each document's best score among the alternatives (a dis_max without tie-break)."""
    best: Scores = {}
    for scores in alternatives:
        for docnum, score in scores.items():
            if score > best.get(docnum, 0.0):
                best[docnum] = score
    return best


def group_scores(view: IndexView, q: wq.Query, deadline: Deadline) -> Scores:
    """Document -> score for one query word (a group): term at a time when the group is
    terms and prefixes only, otherwise (phrases) Whoosh's own matching over all its
    documents. A prefix, and a DisjunctionMax of alternatives (spelling variants), score
    each document by its best alternative, so that a document is not rewarded for
    holding many words that share the prefix."""
    leaves = _leaves(q)
    if leaves is None:
        return view.whoosh_scores(q, deadline)
    scores: Scores = {}
    for leaf in leaves:
        if isinstance(leaf, wq.Term):
            view.term_scores(leaf, scores, deadline)
        else:
            for docnum, score in _best_of(_alternatives(view, leaf, deadline)).items():
                scores[docnum] = scores.get(docnum, 0.0) + score
        deadline.check()
    return scores


def _alternatives(view: IndexView, leaf: wq.Query, deadline: Deadline) -> Iterable[Scores]:
    """The scores of each alternative of a prefix (its expansions) or a DisjunctionMax."""
    if isinstance(leaf, wq.Prefix):
        for term in view.expand(leaf):
            one: Scores = {}
            view.term_scores(term, one, deadline)
            yield one
    else:
        for sub in leaf.subqueries:
            yield group_scores(view, sub, deadline)


@dataclass
class Matches:
    """The outcome of matching: who matches any word, who matches every word, scores."""

    any_word: frozenset[int]
    every_word: frozenset[int]
    scores: Scores  # BM25 summed over the words, for every document in ``any_word``
    coverage: dict[int, int]  # how many of the query's words each document holds


def match(view: IndexView, groups: list[wq.Query], negatives: list[wq.Query],
          keep: Callable[[int], bool] | None, deadline: Deadline) -> Matches:
    """Match ``groups`` (one query per word; empty = browse everything) minus
    ``negatives``, keeping only documents that pass ``keep`` (source and date filters)."""
    excluded: set[int] = set()
    for negative in negatives:
        excluded.update(group_scores(view, negative, deadline))

    def allowed(docnum: int) -> bool:
        return docnum not in excluded and (keep is None or keep(docnum))

    if not groups:
        everything = frozenset(d for d in view.all_docs if allowed(d))
        return Matches(everything, everything, {}, {})
    totals: Scores = {}
    coverage: dict[int, int] = {}
    for group in groups:
        for docnum, score in group_scores(view, group, deadline).items():
            totals[docnum] = totals.get(docnum, 0.0) + score
            coverage[docnum] = coverage.get(docnum, 0) + 1
        deadline.check()
    if excluded or keep is not None:
        totals = {d: score for d, score in totals.items() if allowed(d)}
    every = frozenset(d for d in totals if coverage[d] == len(groups))
    return Matches(frozenset(totals), every, totals, coverage)
