"""The one search entry point: a SearchRequest in, a SearchResult out.

The CLI, the web page and the JSON API all call :meth:`Engine.search` and only
render what it returns.
"""

from __future__ import annotations

import datetime as dt
import heapq
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from whoosh import index as whoosh_index

from search.highlight import Highlight, mark_all, snippet
from search.indexer import IndexProblem, IndexUnreadable, check_schema, live_generation
from search.matching import DEFAULT_TIME_LIMIT, Deadline, IndexView, match
from search.querylang import FIELD_WEIGHTS, CompiledQuery, compile_query
from search.ranking import RERANK_WINDOW, WEIGHTING, coverage_order
from search.request import SearchRequest

NO_HIGHLIGHT = Highlight(html="", matched=[])  # hits of highlight=False runs
FACET_FIELDS = {"source": "source", "date": "year", "month": "month"}
@dataclass
class Hit:
    id: str
    title: str | None
    url: str | None
    source: str | None
    date: str | None
    score: float | None
    snippet: str
    title_html: str
    matched: list[str]

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class SearchResult:
    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[dict]]
    #: "and": every hit has every word; "or": hits have any of the words, those
    #: with more of them ranked first; "all": no query, browsing.
    match: str = "and"
    #: How many of the ``total`` hits contain every word (None when browsing).
    complete: int | None = None
    sort: str = "relevance"
    filters: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "took_ms": self.took_ms,
            "match": self.match,
            "complete": self.complete,
            "sort": self.sort,
            "filters": self.filters,
            "hits": [h.to_dict() for h in self.hits],
            "facets": self.facets,
        }


def _filter(view: IndexView, request: SearchRequest) -> Callable[[int], bool] | None:
    """The source and date filters as a test on a document number, read from the
    columns (no Whoosh query, nothing cached per filter)."""
    tests = []
    if request.sources:
        wanted = {s or None for s in request.sources}  # None: "source unknown"
        source = view.column("source")
        tests.append(lambda d: (source[d] or None) in wanted)
    if request.date_from or request.date_to:
        day = view.column("day")  # YYYYMMDD, 0 when unknown (never inside a range)
        low = _day_number(request.date_from) if request.date_from else 1
        high = _day_number(request.date_to) if request.date_to else 99991231
        tests.append(lambda d: low <= day[d] <= high)
    if not tests:
        return None
    return tests[0] if len(tests) == 1 else (lambda d: all(test(d) for test in tests))


def _day_number(date: dt.date) -> int:
    return date.year * 10000 + date.month * 100 + date.day


def _date_string(value) -> str | None:
    return value.date().isoformat() if isinstance(value, dt.datetime) else None


class Engine:
    """Searches the live index generation in ``index_dir``.

    Whoosh searchers are not thread-safe, so each thread keeps its own (with the
    per-document data scoring needs, see :class:`IndexView`), reopened when the live
    generation changes or was updated in place.
    """

    def __init__(self, index_dir: Path, time_limit: float = DEFAULT_TIME_LIMIT):
        self.index_dir = Path(index_dir)
        self.time_limit = time_limit
        self._local = threading.local()

    def _view(self) -> IndexView:
        generation = live_generation(self.index_dir)
        if generation is None:
            raise IndexProblem(f"no index in {self.index_dir}: run `bahth index` to build one")
        local = self._local
        view = getattr(local, "view", None)
        if view is None or local.generation != generation or not view.searcher.up_to_date():
            if view is not None:
                view.searcher.close()
                local.view = None
            check_schema(generation)  # terms from another analyzer would silently not match
            # A fresh searcher, not Searcher.refresh(): refresh reuses segment readers and
            # with them the old deletion sets, so deleted documents would still be found.
            try:
                ix = whoosh_index.open_dir(str(generation))
                local.view = IndexView(ix.searcher(weighting=WEIGHTING), tuple(FIELD_WEIGHTS))
            except Exception as error:  # damaged files surface as whatever Whoosh trips on
                raise IndexUnreadable(
                    f"the index in {self.index_dir} cannot be read ({type(error).__name__}); "
                    "run `bahth index --check`, then `bahth index --rebuild` with its sources") from error
            local.generation = generation
        return local.view

    def doc_count(self) -> int:
        return self._view().searcher.doc_count()

    def search(self, request: SearchRequest, highlight: bool = True) -> SearchResult:
        """Run ``request``. ``highlight=False`` skips snippets (for evaluation runs
        that only need the ranking); everything else is what the API returns."""
        started = time.perf_counter()
        deadline = Deadline(self.time_limit)
        view = self._view()
        compiled = compile_query(request.q)
        sort = "date" if compiled.empty and request.sort == "relevance" else request.sort
        found = match(view, compiled.groups, compiled.negatives, _filter(view, request), deadline)
        # Ranked by relevance, any word may match and coverage orders the hits;
        # sorted by date, every word must match unless no article has them all.
        if compiled.empty:
            docs, kind = found.any_word, "all"
        elif len(compiled.groups) > 1 and (sort == "relevance" or not found.every_word):
            docs, kind = found.any_word, "or"
        else:
            docs, kind = found.every_word, "and"
        limit = request.page * request.per_page
        if sort == "date":
            day = view.column("day")
            page = [(None, d) for d in heapq.nlargest(limit, docs, key=lambda d: (day[d], -d))]
        else:
            window = heapq.nlargest(max(limit, RERANK_WINDOW), docs, key=lambda d: (found.scores[d], -d))
            ranked = [(found.scores[d], d) for d in window]
            if len(compiled.groups) > 1:  # one word: nothing to cover, BM25 order stands
                ranked = coverage_order(ranked, found.coverage, len(compiled.groups))
            page = ranked
        hits = self._hits(view, page[limit - request.per_page: limit], compiled, highlight, deadline)
        facets = self._facets(view, docs)
        deadline.check()
        return SearchResult(
            query=request.q,
            total=len(docs),
            page=request.page,
            per_page=request.per_page,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            hits=hits,
            facets=facets,
            match=kind,
            complete=None if compiled.empty else len(found.every_word),
            sort=sort,
            filters={
                "source": list(request.sources),
                "from": request.date_from.isoformat() if request.date_from else None,
                "to": request.date_to.isoformat() if request.date_to else None,
            },
        )

    @staticmethod
    def _hits(view: IndexView, page: list[tuple[float | None, int]], compiled: CompiledQuery,
              highlight: bool, deadline: Deadline) -> list[Hit]:
        hits = []
        for score, docnum in page:
            deadline.check()
            stored = view.searcher.stored_fields(docnum)
            title = stored.get("title")
            body = snippet(stored.get("body", ""), compiled.terms) if highlight else NO_HIGHLIGHT
            title_marks = mark_all(title or "", compiled.terms) if highlight else NO_HIGHLIGHT
            hits.append(Hit(
                id=stored["id"],
                title=title,
                url=stored.get("url"),
                source=stored.get("source"),
                date=_date_string(stored.get("date")),
                score=round(score, 4) if score is not None else None,
                snippet=str(body.html),
                title_html=str(title_marks.html),
                matched=list(dict.fromkeys(title_marks.matched + body.matched)),
            ))
        return hits

    @staticmethod
    def _facets(view: IndexView, docnums) -> dict[str, list[dict]]:
        """Counts over the whole result set, read from columns (no stored fields)."""
        facets = {}
        for name, fieldname in FACET_FIELDS.items():
            column = view.column(fieldname)
            counts = Counter(column[d] or None for d in docnums)
            if name == "source":
                ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
            else:  # dates: newest first, unknown last
                known = sorted((kv for kv in counts.items() if kv[0] is not None), reverse=True)
                ordered = known + [kv for kv in counts.items() if kv[0] is None]
            facets[name] = [{"value": value, "count": count} for value, count in ordered]
        return facets
