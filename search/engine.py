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

from markupsafe import escape
from whoosh import index as whoosh_index
from whoosh import query as wq

from search.errors import IndexProblem, IndexUnreadable, NotFound, Notice
from search.grams import rescore, unpack
from search.highlight import Highlight, lead, mark_all, snippet
from search.indexer import check_schema, live_generation, serving_checks
from search.matching import DEFAULT_TIME_LIMIT, Deadline, IndexView, ViewData, match
from search.periods import day_number, day_of, histogram, presets
from search.querylang import FIELD_WEIGHTS, CompiledQuery, compile_query, fold_source
from search.ranking import RERANK_WINDOW, WEIGHTING, coverage_order
from search.request import SearchRequest
from search.vocabulary import completions, did_you_mean, similar_terms, typo_tolerance

NO_HIGHLIGHT = Highlight(html="", matched=[])  # hits of highlight=False runs
FACET_FIELDS = {"source": "source", "category": "category", "date": "year", "month": "month"}
MAX_OTHERS = 10  # copies of a story listed under its hit
SIMILAR_TERMS = 20  # words of an article that "more like this" searches for


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
    #: The story (search.stories) and the other matching articles that carry it.
    story: str | None = None
    others: list[dict] = field(default_factory=list)
    others_total: int = 0
    #: Of ``others_total``: how many other outlets carried it, and how many copies came
    #: from this hit's own outlet (republished).
    others_outlets: int = 0
    others_same_source: int = 0

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
    #: Number of stories among the ``total`` articles (hits are stories when collapsed).
    stories: int = 0
    collapse: bool = True
    #: A corrected query when some word is unknown to the index, else None.
    suggestion: str | None = None
    histogram: dict = field(default_factory=dict)
    date_presets: list[dict] = field(default_factory=list)
    #: What the user should know about this search (a filter naming no known source).
    warnings: list[Notice] = field(default_factory=list)

    @property
    def pages(self) -> int:
        shown = self.stories if self.collapse else self.total
        return max(1, -(-shown // self.per_page))

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
            "stories": self.stories,
            "collapse": self.collapse,
            "suggestion": self.suggestion,
            "sort": self.sort,
            "filters": self.filters,
            "hits": [h.to_dict() for h in self.hits],
            "facets": self.facets,
            "histogram": self.histogram,
            "date_presets": self.date_presets,
            "warnings": [w.to_dict() for w in self.warnings],
        }


def _resolve_sources(view: IndexView, names, notices: list[Notice]) -> set[str | None]:
    """The indexed source values that filter ``names`` mean, by one rule for the API, the
    page, the CLI and ``source:`` clauses: a source's whole name, insensitive to case and
    Arabic spelling. ``None`` (or "") means "source unknown". A name that matches no
    source adds a notice (with the sources whose names contain it, if any)."""
    def by_folded():
        table: dict[str, list[str]] = {}
        for value in set(view.column("source")):
            if value:
                table.setdefault(fold_source(value), []).append(value)
        return table
    table = view.remember(("sources",), by_folded)
    found: set[str | None] = set()
    for name in names:
        if not name:
            found.add(None)
            continue
        folded = fold_source(name)
        matches = table.get(folded)
        if matches:
            found.update(matches)
            continue
        near = sorted(v for key, values in table.items() if folded and folded in key for v in values)
        hint = f"; did you mean {', '.join(near[:3])}?" if near else ""
        arabic_hint = f"؛ هل تقصد {'، '.join(near[:3])}؟" if near else ""
        notices.append(Notice("unknown_source", f"no source is named {name!r}{hint}",
                              f"لا يوجد مصدر باسم «{{echo}}»{arabic_hint}", echo=name))
    return found


def _query_filter(view: IndexView, compiled: CompiledQuery, notices: list[Notice]
                  ) -> Callable[[int], bool] | None:
    """The ``source:`` clauses of the query as a test on a document number."""
    source = view.column("source")
    tests = []
    if compiled.sources:
        named = _resolve_sources(view, compiled.sources, notices)
        tests.append(lambda d: (source[d] or None) in named)
    if compiled.excluded_sources:
        unwanted = _resolve_sources(view, compiled.excluded_sources, notices)
        tests.append(lambda d: (source[d] or None) not in unwanted)
    return _all_of(tests)


def _facet_filters(view: IndexView, request: SearchRequest, notices: list[Notice]
                   ) -> dict[str, Callable[[int], bool]]:
    """The filters chosen on facets (source, category, dates), each a test on a document
    number read from the columns. Kept apart so that each facet can be counted without
    its own filter: choosing one source still shows the counts of the others."""
    filters = {}
    if request.sources:
        wanted = _resolve_sources(view, request.sources, notices)
        source = view.column("source")
        filters["source"] = lambda d: (source[d] or None) in wanted
    if request.categories:
        categories = set(request.categories)
        category = view.column("category")
        filters["category"] = lambda d: category[d] in categories
    if request.date_from or request.date_to:
        day = view.column("day")  # YYYYMMDD, 0 when unknown (never inside a range)
        low = day_number(request.date_from) if request.date_from else 1
        high = day_number(request.date_to) if request.date_to else 99991231
        filters["date"] = lambda d: low <= day[d] <= high
    return filters


def _all_of(tests: list[Callable[[int], bool]]) -> Callable[[int], bool] | None:
    if not tests:
        return None
    return tests[0] if len(tests) == 1 else (lambda d: all(test(d) for test in tests))


def _narrowed(docs: frozenset[int], filters: dict[str, Callable[[int], bool]], without: str | None = None
              ) -> frozenset[int]:
    test = _all_of([t for name, t in filters.items() if name != without])
    return docs if test is None else frozenset(d for d in docs if test(d))


def _date_string(value) -> str | None:
    return value.date().isoformat() if isinstance(value, dt.datetime) else None


def _counts(column: list, docnums) -> Counter:
    """How many of ``docnums`` have each value of ``column`` (empty values counted as None),
    with the per-document work done in C (``map``), since it runs over whole result sets."""
    counts = Counter(map(column.__getitem__, docnums))
    for empty in ("", b""):
        if empty in counts:
            counts[None] += counts.pop(empty)
    return counts


def _story_members(view: IndexView) -> dict[str, list[int]]:
    """Story -> its documents, for the stories carried by more than one (per searcher)."""
    def members():
        by_story: dict[str, list[int]] = {}
        for docnum, story in enumerate(view.column("story")):
            if story and docnum in view.all_docs:
                by_story.setdefault(story, []).append(docnum)
        return {s: docs for s, docs in by_story.items() if len(docs) > 1}
    return view.remember(("stories",), members)


def _collapse(view: IndexView, ranked: list[tuple[float | None, int]], wanted: int
              ) -> list[tuple[float | None, int]]:
    """The first ``wanted`` stories of ``ranked``, each as its best-ranked document."""
    story = view.column("story")
    seen: set = set()
    heads = []
    for score, docnum in ranked:
        key = story[docnum] or docnum
        if key not in seen:
            seen.add(key)
            heads.append((score, docnum))
            if len(heads) == wanted:
                break
    return heads


def _stored(view: IndexView, doc_id: str) -> tuple[int, dict]:
    """The document number and stored fields of ``doc_id``; NotFound when there is none."""
    docnum = view.searcher.document_number(id=doc_id)
    if docnum is None:
        raise NotFound(f"no document with id {doc_id!r}")
    return docnum, view.searcher.stored_fields(docnum)


def _summary(view: IndexView, docnum: int) -> dict:
    stored = view.searcher.stored_fields(docnum)
    return {"id": stored["id"], "title": stored.get("title"), "source": stored.get("source"),
            "date": _date_string(stored.get("date")), "url": stored.get("url")}


class Engine:
    """Searches the live index generation in ``index_dir``.

    Whoosh searchers are not thread-safe, so each thread keeps its own, reopened when
    the live generation changes or was updated in place; the per-document data derived
    from the index (norms, columns, see :class:`ViewData`) is built once and shared.
    """

    def __init__(self, index_dir: Path, time_limit: float = DEFAULT_TIME_LIMIT):
        self.index_dir = Path(index_dir)
        self.time_limit = time_limit
        self._local = threading.local()
        self._data: dict[tuple, ViewData] = {}  # index state -> what the threads' views share
        self._data_lock = threading.Lock()

    def _shared_data(self, state: tuple) -> ViewData:
        """The ViewData of an index state (generation, Whoosh's commit number), one for all
        threads; only the newest state is kept (views of older ones hold their own reference)."""
        with self._data_lock:
            if state not in self._data:
                self._data = {state: ViewData()}
            return self._data[state]

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
                local.view = IndexView(ix.searcher(weighting=WEIGHTING), tuple(FIELD_WEIGHTS),
                                       self._shared_data((generation, ix.latest_generation())))
            except Exception as error:  # damaged files surface as whatever Whoosh trips on
                raise IndexUnreadable(
                    f"the index in {self.index_dir} cannot be read ({type(error).__name__}); "
                    "run `bahth index --check`, then `bahth index --rebuild` with its sources") from error
            local.generation = generation
        return local.view

    def doc_count(self) -> int:
        return self._view().searcher.doc_count()

    def health(self) -> int:
        """The number of documents, once the index has shown it can serve: its columns
        read, a query run, stored fields read (checked once per index state).
        Raises IndexUnreadable when it cannot."""
        view = self._view()

        def check() -> str | None:
            try:
                failed = [c.what for c in serving_checks(view.searcher) if not c.ok]
            except Exception as error:  # damage surfaces as whatever Whoosh trips on
                return f"{type(error).__name__}: {error}"
            return "; ".join(failed) or None
        problem = view.remember(("health",), check)
        if problem:
            raise IndexUnreadable(f"the index in {self.index_dir} cannot serve ({problem}); "
                                  "run `bahth index --check`, then `bahth index --rebuild` with its sources")
        return view.searcher.doc_count()

    def search(self, request: SearchRequest, highlight: bool = True) -> SearchResult:
        """Run ``request``. ``highlight=False`` skips snippets (for evaluation runs
        that only need the ranking); everything else is what the API returns."""
        started = time.perf_counter()
        deadline = Deadline(self.time_limit)
        view = self._view()
        compiled = compile_query(request.q, variants=typo_tolerance(view))
        sort = "date" if compiled.empty and request.sort == "relevance" else request.sort
        notices: list[Notice] = []
        found = match(view, compiled.groups, compiled.negatives, _query_filter(view, compiled, notices), deadline)
        filters = _facet_filters(view, request, notices)
        any_word = _narrowed(found.any_word, filters)
        every_word = any_word & found.every_word if filters else found.every_word
        # Ranked by relevance, any word may match and coverage orders the hits;
        # sorted by date, every word must match unless no article has them all.
        if compiled.empty:
            docs, kind, unfiltered = any_word, "all", found.any_word
        elif len(compiled.groups) > 1 and (sort == "relevance" or not every_word):
            docs, kind, unfiltered = any_word, "or", found.any_word
        else:
            docs, kind, unfiltered = every_word, "and", found.every_word
        limit = request.page * request.per_page
        ranked = self._ranked(view, docs, found, sort, len(compiled.groups), limit, request.collapse,
                              compiled.stems)
        page = ranked[limit - request.per_page: limit]
        hits = self._hits(view, page, compiled, highlight, deadline, docs if request.collapse else None)
        # Each facet is counted without its own filter (the others apply).
        counted = {name: _narrowed(unfiltered, filters, without=name) if name in filters else docs
                   for name in ("source", "category", "date")}
        month_counts = _counts(view.column("month"), counted["date"])
        facets = self._facets(view, counted, month_counts)
        stories = self._story_count(view, docs) if request.collapse else len(docs)
        suggestion = did_you_mean(view, request.q, compiled.words) if compiled.words else None
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
            complete=None if compiled.empty else len(every_word),
            sort=sort,
            filters={
                "source": list(request.sources),
                "category": list(request.categories),
                "from": request.date_from.isoformat() if request.date_from else None,
                "to": request.date_to.isoformat() if request.date_to else None,
            },
            stories=stories,
            collapse=request.collapse,
            suggestion=suggestion,
            histogram=histogram(month_counts),
            date_presets=presets(self._newest(view)),
            warnings=notices,
        )

    @staticmethod
    def _ranked(view: IndexView, docs, found, sort: str, words: int, limit: int,
                collapse: bool, stems: tuple[str, ...] = ()) -> list[tuple[float | None, int]]:
        """The first ``limit`` hits in order: documents, or the best document of each
        story. Collapsing reads further down the ranking until it has enough stories.
        By relevance: BM25, then the best RERANK_WINDOW rescored on the trigrams of
        ``stems`` (search.grams), then ordered by coverage (search.ranking)."""
        depth = max(limit, RERANK_WINDOW)
        head = None
        while True:
            if sort == "date":
                day = view.column("day")
                ranked = [(None, d) for d in heapq.nlargest(depth, docs, key=lambda d: (day[d], -d))]
            else:
                window = heapq.nlargest(depth, docs, key=lambda d: (found.scores[d], -d))
                ranked = [(found.scores[d], d) for d in window]
                if head is None:  # (the same on every pass: the best documents do not change)
                    head = rescore(ranked[:RERANK_WINDOW], stems,
                                   lambda docnum: unpack(view.value("stems", docnum)))
                ranked = head + ranked[RERANK_WINDOW:]
                if words > 1:  # one word: nothing to cover
                    ranked = coverage_order(ranked, found.coverage, words)
            if not collapse:
                return ranked
            heads = _collapse(view, ranked, limit)
            if len(heads) == limit or depth >= len(docs):
                return heads
            depth *= 4

    @staticmethod
    def _story_count(view: IndexView, docs) -> int:
        members = _story_members(view)
        story = view.column("story")
        stories = Counter(map(story.__getitem__, docs))  # (C speed: facets and this run on every search)
        shared = [count for key, count in stories.items() if key in members]
        return len(docs) - sum(shared) + len(shared)

    @staticmethod
    def _newest(view: IndexView) -> dt.date | None:
        return view.remember(("newest",), lambda: day_of(max(view.column("day"), default=0)))

    def _hits(self, view: IndexView, page: list[tuple[float | None, int]], compiled: CompiledQuery,
              highlight: bool, deadline: Deadline, matching=None, leads: bool = False) -> list[Hit]:
        """Hits with snippets (``leads``: the article's beginning, unmarked); with
        ``matching`` (collapsed results), each lists the other matching articles of its story."""
        members = _story_members(view) if matching is not None else {}
        hits = []
        for score, docnum in page:
            deadline.check()
            stored = view.searcher.stored_fields(docnum)
            title = stored.get("title")
            if not highlight:
                body = title_marks = NO_HIGHLIGHT
            elif leads:
                body, title_marks = lead(stored.get("body", ""), compiled.terms), Highlight(escape(title or ""), [])
            else:
                body = snippet(stored.get("body", ""), compiled.terms, compiled.prefixes)
                title_marks = mark_all(title or "", compiled.terms, compiled.prefixes)
            story = stored.get("story")
            others = [d for d in members.get(story, ()) if d != docnum and d in matching]
            own = stored.get("source")
            other_sources = [view.column("source")[d] or None for d in others]
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
                story=story,
                others=[_summary(view, d) for d in others[:MAX_OTHERS]],
                others_total=len(others),
                others_outlets=len({s for s in other_sources if s != own}),
                others_same_source=sum(s == own for s in other_sources),
            ))
        return hits

    def document(self, doc_id: str, q: str = "") -> dict:
        """One article in full: its text with the words of ``q`` marked, and the other
        articles carrying its story. Raises NotFound."""
        view = self._view()
        docnum, stored = _stored(view, doc_id)
        compiled = compile_query(q)
        story = stored.get("story")
        copies = [d for d in _story_members(view).get(story, ()) if d != docnum]
        return {
            **_summary(view, docnum),
            "category": stored.get("category"),
            "story": story,
            "title_html": str(mark_all(stored.get("title") or "", compiled.terms, compiled.prefixes).html),
            "body": stored.get("body", ""),
            "body_html": str(mark_all(stored.get("body", ""), compiled.terms, compiled.prefixes).html),
            "copies": [_summary(view, d) for d in copies],
        }

    def suggest(self, q: str, limit: int = 8) -> list[str]:
        """Completions of the query being typed (autocomplete)."""
        return completions(self._view(), q, limit)

    def similar(self, doc_id: str, per_page: int = 10) -> SearchResult:
        """More like this: articles sharing the words that characterise ``doc_id``
        (tf·idf), ranked by BM25, copies of its own story left out. Raises NotFound."""
        started = time.perf_counter()
        deadline = Deadline(self.time_limit)
        view = self._view()
        docnum, stored = _stored(view, doc_id)
        terms = similar_terms(view, f"{stored.get('title') or ''} {stored.get('body', '')}", SIMILAR_TERMS)
        groups = [wq.Or([wq.Term(f, t, boost=w) for f, w in FIELD_WEIGHTS.items()]) for t in terms]
        own_story = set(_story_members(view).get(stored.get("story"), ())) | {docnum}
        hits, total = [], 0
        if groups:  # (no telling words: nothing is similar)
            found = match(view, groups, [], lambda d: d not in own_story, deadline)
            ranked = self._ranked(view, found.any_word, found, "relevance", 1, per_page, True)
            compiled = CompiledQuery(groups=groups, terms=frozenset(terms))
            hits = self._hits(view, ranked[:per_page], compiled, True, deadline, found.any_word, leads=True)
            total = len(found.any_word)
        return SearchResult(query=" ".join(terms), total=total, page=1, per_page=per_page,
                            took_ms=round((time.perf_counter() - started) * 1000, 2), hits=hits,
                            facets={}, match="or", complete=None, stories=len(hits),
                            filters={"source": [], "category": [], "from": None, "to": None})

    @staticmethod
    def _facets(view: IndexView, counted: dict[str, frozenset[int]], month_counts: Counter
                ) -> dict[str, list[dict]]:
        """Counts over the result set (without the facet's own filter), read from columns
        (no stored fields). The category facet is there only when the index has categories."""
        facets = {}
        for name, fieldname in FACET_FIELDS.items():
            docnums = counted["date" if name == "month" else name]
            if name == "category" and not view.remember(("categories",), lambda: any(view.column("category"))):
                continue
            if name == "month":
                counts = Counter()
                for month, count in month_counts.items():
                    counts[month or None] += count
            else:
                column = view.column(fieldname)
                counts = _counts(column, docnums)
            if name in ("source", "category"):
                ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
            else:  # dates: newest first, unknown last
                known = sorted((kv for kv in counts.items() if kv[0] is not None), reverse=True)
                ordered = known + [kv for kv in counts.items() if kv[0] is None]
            facets[name] = [{"value": value, "count": count} for value, count in ordered]
        return facets
