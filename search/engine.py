"""The one search entry point: a SearchRequest in, a SearchResult out.

The CLI, the web page and the JSON API all call :meth:`Engine.search` and only
render what it returns. Matching, filters, facets, the histogram and stories work on
whole result sets as arrays (document numbers, integer-coded columns); stored fields
are read only for the hits shown.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from markupsafe import escape
from whoosh import query as wq

from search.entities import gazetteer
from search.errors import IndexUnreadable, NotFound, Notice
from search.facets import FACETS, FILTERS
from search.feedback import feedback
from search.grams import GramIndex, rescore
from search.highlight import Highlight, lead, mark_all, snippet
from search.indexer import serving_checks
from search.matching import DEFAULT_TIME_LIMIT, Deadline, Matches, match
from search.periods import day_number, day_of, histogram, presets
from search.proximity import proximity
from search.querylang import FIELD_WEIGHTS, CompiledQuery, compile_query, fold_source
from search.ranking import RERANK_WINDOW, WEIGHTING, coverage_order
from search.request import SearchRequest
from search.view import IndexView, Views
from search.vocabulary import completions, did_you_mean, similar_terms, typo_tolerance

NO_HIGHLIGHT = Highlight(html="", matched=[])  # hits of highlight=False runs
MAX_OTHERS = 10  # copies of a story listed under its hit
MAX_ROWS = 10_000  # hits a download lists at most (as the API pages at most)
MAX_ENTITY_VALUES = 30  # places, people, organizations listed in a facet (the most frequent)
SIMILAR_TERMS = 20  # words of an article that "more like this" searches for
Mask = Callable[[np.ndarray], np.ndarray]  # document numbers -> which of them pass


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


def filters_of(request: SearchRequest) -> dict:
    """A request's filters as the result reports them."""
    return {**{facet.key: list(request.values(facet.key)) for facet in FILTERS},
            "from": request.date_from.isoformat() if request.date_from else None,
            "to": request.date_to.isoformat() if request.date_to else None}


# --- filters --------------------------------------------------------------------------

def _resolve_entities(view: IndexView, facet, names, notices: list[Notice]) -> np.ndarray:
    """The codes of the places, people or organizations ``names`` mean: a canonical name
    as the facet shows it, or any other name or spelling the gazetteer knows it by
    (search.entities). A name no article of the index mentions adds a notice."""
    number = {value: code for code, value in enumerate(view.values(facet.column))}
    found: set[int] = set()
    for name in names:
        canonical = gazetteer().canonical(facet.key, name or "") or name
        if canonical in number:
            found.add(number[canonical])
        else:
            notices.append(Notice(f"unknown_{facet.key}", f"no article mentions the {facet.key} {name!r}",
                                  f"لا تذكر أي مقالة «{{echo}}» ({facet.label})", echo=name or ""))
    return np.array(sorted(found), np.int64)


def _resolve_sources(view: IndexView, names, notices: list[Notice]) -> np.ndarray:
    """The source codes (search.view) that filter ``names`` mean, by one rule for the
    API, the page, the CLI and ``source:`` clauses: a source's whole name, insensitive to
    case and Arabic spelling. ``None`` (or "") means "source unknown" (code 0). A name
    that matches no source adds a notice (with the sources whose names contain it)."""
    def by_folded():
        table: dict[str, list[int]] = {}
        for code, value in enumerate(view.values("source")):
            if value:
                table.setdefault(fold_source(value), []).append(code)
        return table
    table = view.remember(("sources",), by_folded)
    found: set[int] = set()
    for name in names:
        if not name:
            found.add(0)
            continue
        folded = fold_source(name)
        codes = table.get(folded)
        if codes:
            found.update(codes)
            continue
        values = view.values("source")
        near = sorted(values[c] for key, codes in table.items() if folded and folded in key for c in codes)
        hint = f"; did you mean {', '.join(near[:3])}?" if near else ""
        arabic_hint = f"؛ هل تقصد {'، '.join(near[:3])}؟" if near else ""
        notices.append(Notice("unknown_source", f"no source is named {name!r}{hint}",
                              f"لا يوجد مصدر باسم «{{echo}}»{arabic_hint}", echo=name))
    return np.array(sorted(found), np.int64)


def _codes_in(view: IndexView, column: str, codes: np.ndarray, wanted: bool = True) -> Mask:
    column_codes = view.codes(column)
    return lambda docs: np.isin(column_codes[docs], codes) == wanted


def _lists_with(view: IndexView, column: str, codes: np.ndarray) -> Mask:
    """Documents with any of ``codes`` among their several values (search.view.code_lists)."""
    def mask(docs):
        owner, values = view.code_lists(column, docs)
        out = np.zeros(len(docs), bool)
        out[owner[np.isin(values, codes)]] = True
        return out
    return mask


def _query_filter(view: IndexView, compiled: CompiledQuery, notices: list[Notice]) -> Mask | None:
    """The ``source:`` clauses of the query as a mask over document numbers."""
    masks = []
    if compiled.sources:
        masks.append(_codes_in(view, "source", _resolve_sources(view, compiled.sources, notices)))
    if compiled.excluded_sources:
        masks.append(_codes_in(view, "source", _resolve_sources(view, compiled.excluded_sources, notices), False))
    return _all_of(masks)


def _facet_filters(view: IndexView, request: SearchRequest, notices: list[Notice]) -> dict[str, Mask]:
    """The filters chosen on facets and dates, each a mask read from the columns. Kept
    apart so that each facet can be counted without its own filter: choosing one source
    still shows the counts of the others."""
    filters = {}
    for facet in FILTERS:
        chosen = request.values(facet.key)
        if not chosen:
            continue
        if facet.key == "source":
            codes = _resolve_sources(view, chosen, notices)
        elif facet.multi:
            codes = _resolve_entities(view, facet, chosen, notices)
        else:
            number = {value: code for code, value in enumerate(view.values(facet.column))}
            codes = np.array(sorted({number[v] for v in chosen if v in number} | ({0} if None in chosen else set())),
                             np.int64)
        filters[facet.key] = (_lists_with if facet.multi else _codes_in)(view, facet.column, codes)
    if request.date_from or request.date_to:
        day = view.day()  # YYYYMMDD, 0 when unknown (never inside a range)
        low = day_number(request.date_from) if request.date_from else 1
        high = day_number(request.date_to) if request.date_to else 99991231
        filters["date"] = lambda docs: (day[docs] >= low) & (day[docs] <= high)
    return filters


def _all_of(masks: list[Mask]) -> Mask | None:
    if not masks:
        return None
    if len(masks) == 1:
        return masks[0]

    def every(docs):
        out = masks[0](docs)
        for mask in masks[1:]:
            out &= mask(docs)
        return out
    return every


def _narrowed(docs: np.ndarray, filters: dict[str, Mask], without: str | None = None) -> np.ndarray:
    mask = _all_of([m for name, m in filters.items() if name != without])
    return docs if mask is None else docs[mask(docs)]


def _date_string(value) -> str | None:
    return value.date().isoformat() if isinstance(value, dt.datetime) else None


# --- stories -------------------------------------------------------------------------

@dataclass
class _Stories:
    """The live members of every story, grouped (story code -> its documents)."""

    order: np.ndarray  # live document numbers grouped by story code
    starts: np.ndarray  # story code c's members are order[starts[c]:starts[c + 1]]

    def members(self, code: int) -> np.ndarray:
        return self.order[self.starts[code]:self.starts[code + 1]] if code else np.zeros(0, np.int64)


def _stories(view: IndexView) -> _Stories:
    def build():
        codes = view.codes("story")
        live = np.flatnonzero(view.live)
        by_code = live[np.argsort(codes[live], kind="stable")]
        starts = np.searchsorted(codes[by_code], np.arange(len(view.values("story")) + 1))
        return _Stories(by_code, starts)
    return view.shared("stories", build)


def _within(docs: np.ndarray, sorted_docs: np.ndarray) -> np.ndarray:
    """Which of ``docs`` are in ``sorted_docs``."""
    if not len(sorted_docs):
        return np.zeros(len(docs), bool)
    where = np.minimum(np.searchsorted(sorted_docs, docs), len(sorted_docs) - 1)
    return sorted_docs[where] == docs


def _story_count(view: IndexView, docs: np.ndarray) -> int:
    """Distinct stories among ``docs`` (an article without a story is one of its own)."""
    codes = view.codes("story")[docs]
    seen = np.zeros(len(view.values("story")), bool)
    seen[codes] = True
    return int(seen[1:].sum() + (codes == 0).sum())


def _collapse(view: IndexView, ranked: list[tuple[float | None, int]], wanted: int
              ) -> list[tuple[float | None, int]]:
    """The first ``wanted`` stories of ``ranked``, each as its best-ranked document."""
    story = view.codes("story")
    seen: set = set()
    heads = []
    for score, docnum in ranked:
        key = int(story[docnum]) or -docnum - 1
        if key not in seen:
            seen.add(key)
            heads.append((score, docnum))
            if len(heads) == wanted:
                break
    return heads


# --- facets ---------------------------------------------------------------------------

def _months(view: IndexView) -> np.ndarray:
    """Every document's month as an index (0: unknown; else months since 1800-01, plus one)."""
    def build():
        day = view.day()
        month = (day // 10000 - 1800) * 12 + (day // 100 % 100) - 1 + 1
        return np.where(day > 0, month, 0)
    return view.shared("months", build)


def _month_counts(view: IndexView, docs: np.ndarray) -> dict[str, int]:
    """Articles per month ("YYYY-MM"; "" for those without a date)."""
    counts = np.bincount(_months(view)[docs])
    out = {}
    for index in np.flatnonzero(counts).tolist():
        key = "" if index == 0 else f"{1800 + (index - 1) // 12:04d}-{(index - 1) % 12 + 1:02d}"
        out[key] = int(counts[index])
    return out


def value_counts(view: IndexView, column: str, docs: np.ndarray, multi: bool = False
                  ) -> list[tuple[str | None, int]]:
    """(value, count) of every value of a column in ``docs``; of a column of several
    values per document (entities), the MAX_ENTITY_VALUES most frequent."""
    values = view.values(column)
    if not multi:
        counts = np.bincount(view.codes(column)[docs], minlength=len(values))
        return [(values[code], int(counts[code])) for code in np.flatnonzero(counts).tolist()]
    counts = view.code_counts(column, docs)
    present = np.flatnonzero(counts)
    if len(present) > MAX_ENTITY_VALUES:
        present = present[np.argpartition(-counts[present], MAX_ENTITY_VALUES - 1)[:MAX_ENTITY_VALUES]]
    return [(values[code], int(counts[code])) for code in present.tolist()]


def _facets(view: IndexView, counted: dict[str, np.ndarray], month_counts: dict[str, int]
            ) -> dict[str, list[dict]]:
    """Counts over the result set (each without its facet's own filter), read from
    columns. A coded facet is there only when the index has values for it."""
    facets = {}
    years: dict[str, int] = {}
    for month, count in month_counts.items():
        years[month[:4]] = years.get(month[:4], 0) + count
    for facet in FACETS:
        if facet.column == "year":
            counts = [(year or None, count) for year, count in years.items()]
        elif facet.column == "month":
            counts = [(month or None, count) for month, count in month_counts.items()]
        elif len(view.values(facet.column)) > 1:
            counts = value_counts(view, facet.column, counted[facet.key], facet.multi)
        else:
            continue
        if facet.order == "count":
            ordered = sorted(counts, key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
        else:  # dates: newest first, unknown last
            ordered = (sorted((kv for kv in counts if kv[0] is not None), reverse=True)
                       + [kv for kv in counts if kv[0] is None])
        facets[facet.key] = [{"value": value, "count": count} for value, count in ordered]
    return facets


# --- the engine ---------------------------------------------------------------------------

def _gram_index(view: IndexView) -> GramIndex:
    """The trigrams of the index's stems (search.grams), built once per index state."""
    return view.shared("gram_index", lambda: GramIndex(view.stem_vocabulary()))


def _stored(view: IndexView, doc_id: str) -> tuple[int, dict]:
    """The document number and stored fields of ``doc_id``; NotFound when there is none."""
    docnum = view.docnum(doc_id)
    if docnum is None:
        raise NotFound(f"no document with id {doc_id!r}")
    return docnum, view.stored(docnum)


def _code_value(view: IndexView, column: str, docnum: int):
    return view.values(column)[view.codes(column)[docnum]]


def _summary(view: IndexView, docnum: int) -> dict:
    stored = view.stored(docnum, text=False)
    return {"id": stored["id"], "title": stored.get("title"), "source": _code_value(view, "source", docnum),
            "date": _date_string(stored.get("date")), "url": stored.get("url")}


@dataclass
class Selection:
    """What a request finds (Engine.select): the matching articles after filters (``docs``,
    sorted document numbers), and what is needed to rank, count or show them."""

    view: IndexView
    compiled: CompiledQuery
    found: Matches
    filters: dict[str, Mask]
    notices: list[Notice]
    docs: np.ndarray
    every_word: np.ndarray
    kind: str  # "and", "or", "all" (SearchResult.match)
    unfiltered: np.ndarray  # docs before the facet filters (facets count without their own)
    sort: str

    @property
    def listed(self) -> np.ndarray:
        """The articles a listing by date shows: with every word, unless none has them all
        (what trends count: an article with one word of a two-word query is not about it)."""
        return self.every_word if len(self.every_word) or self.kind == "all" else self.docs


class Engine:
    """Searches the live index generation in ``index_dir`` (search.view opens it, once
    per thread, and shares what is derived from it)."""

    def __init__(self, index_dir: Path, time_limit: float = DEFAULT_TIME_LIMIT):
        self.index_dir = Path(index_dir)
        self.time_limit = time_limit
        self._views = Views(self.index_dir, WEIGHTING)

    def _view(self) -> IndexView:
        return self._views.current()

    def doc_count(self) -> int:
        return self._view().count

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
        return view.count

    def select(self, request: SearchRequest, deadline: Deadline | None = None) -> "Selection":
        """The articles ``request`` finds, before any is ranked or shown."""
        deadline = deadline or Deadline(self.time_limit)
        view = self._view()
        compiled = compile_query(request.q, variants=typo_tolerance(view))
        sort = "date" if compiled.empty and request.sort == "relevance" else request.sort
        notices: list[Notice] = []
        found = match(view, compiled.groups, compiled.negatives, _query_filter(view, compiled, notices), deadline)
        filters = _facet_filters(view, request, notices)
        any_word = _narrowed(found.any_word, filters)
        every_word = any_word[_within(any_word, found.every_word)] if filters else found.every_word
        # Ranked by relevance, any word may match and coverage orders the hits;
        # sorted by date, every word must match unless no article has them all.
        if compiled.empty:
            docs, kind, unfiltered = any_word, "all", found.any_word
        elif len(compiled.groups) > 1 and (sort == "relevance" or not len(every_word)):
            docs, kind, unfiltered = any_word, "or", found.any_word
        else:
            docs, kind, unfiltered = every_word, "and", found.every_word
        return Selection(view, compiled, found, filters, notices, docs, every_word, kind, unfiltered, sort)

    def ranked(self, selection: "Selection", limit: int, collapse: bool = False) -> list[tuple[float | None, int]]:
        """The first ``limit`` of a selection in its order (by relevance: BM25, trigrams,
        coverage; by date: newest first)."""
        return self._ranked(selection.view, selection.docs, selection.found, selection.sort,
                            len(selection.compiled.groups), limit, collapse, selection.compiled.stems)

    def rows(self, request: SearchRequest, bound: int = MAX_ROWS) -> Iterator[dict]:
        """Every article ``request`` finds, in its order (up to ``bound``; each copy of a
        story listed, the ``story`` column groups them), for downloads: id, title, source,
        date, url, score, story; read as they are asked for."""
        selection = self.select(request)
        view = selection.view
        ranked = self.ranked(selection, min(bound, len(selection.docs)))
        stories, sources = view.codes("story"), view.codes("source")
        for score, docnum in ranked:
            stored = view.stored(docnum, text=False)
            yield {"id": stored["id"], "title": stored.get("title"), "source": view.values("source")[sources[docnum]],
                   "date": _date_string(stored.get("date")), "url": stored.get("url"),
                   "score": round(score, 4) if score is not None else None,
                   "story": view.values("story")[stories[docnum]]}

    def search(self, request: SearchRequest, highlight: bool = True) -> SearchResult:
        """Run ``request``. ``highlight=False`` skips snippets (for evaluation runs
        that only need the ranking); everything else is what the API returns."""
        started = time.perf_counter()
        deadline = Deadline(self.time_limit)
        selection = self.select(request, deadline)
        view, compiled, found, filters, notices = (selection.view, selection.compiled, selection.found,
                                                   selection.filters, selection.notices)
        docs, every_word, kind, unfiltered, sort = (selection.docs, selection.every_word, selection.kind,
                                                    selection.unfiltered, selection.sort)
        limit = request.page * request.per_page
        ranked = self._ranked(view, docs, found, sort, len(compiled.groups), limit, request.collapse,
                              compiled.stems)
        page = ranked[limit - request.per_page: limit]
        hits = self._hits(view, page, compiled, highlight, deadline, docs if request.collapse else None)
        # Each facet is counted without its own filter (the others apply).
        counted = {key: _narrowed(unfiltered, filters, without=key) if key in filters else docs
                   for key in [f.key for f in FILTERS] + ["date"]}
        month_counts = _month_counts(view, counted["date"])
        facets = _facets(view, counted, month_counts)
        stories = _story_count(view, docs) if request.collapse else len(docs)
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
            filters=filters_of(request),
            stories=stories,
            collapse=request.collapse,
            suggestion=suggestion,
            histogram=histogram(month_counts),
            date_presets=presets(self._newest(view)),
            warnings=notices,
        )

    @staticmethod
    def _ranked(view: IndexView, docs: np.ndarray, found: Matches, sort: str, words: int, limit: int,
                collapse: bool, stems: tuple[str, ...] = ()) -> list[tuple[float | None, int]]:
        """The first ``limit`` hits in order: documents, or the best document of each
        story. Collapsing reads further down the ranking until it has enough stories.
        By relevance: BM25, then the best RERANK_WINDOW rescored on the trigrams of
        ``stems`` (search.grams), then ordered by coverage (search.ranking)."""
        depth = max(limit, RERANK_WINDOW)
        head = None
        if sort == "date":
            keys = view.day()[docs]
        else:
            at = np.searchsorted(found.any_word, docs)
            keys, covered = found.scores[at], found.coverage[at]
        while True:
            top = _top(docs, keys, depth)
            if sort == "date":
                ranked = [(None, d) for d in docs[top].tolist()]
            else:
                ranked = list(zip(keys[top].tolist(), docs[top].tolist()))
                if head is None:  # (the same on every pass: the best documents do not change)
                    window = ranked[:RERANK_WINDOW]
                    pairs = view.stem_pairs([d for _, d in window])  # (their stems, read once)
                    head = rescore(window, stems, _gram_index(view), pairs)
                    head = feedback(view, proximity(view, head, stems), stems, window, pairs)
                ranked = head + ranked[RERANK_WINDOW:]
                if words > 1:  # one word: nothing to cover
                    coverage = dict(zip(docs[top].tolist(), covered[top].tolist()))
                    ranked = coverage_order(ranked, coverage, words)
            if not collapse:
                return ranked
            heads = _collapse(view, ranked, limit)
            if len(heads) == limit or depth >= len(docs):
                return heads
            depth *= 4

    @staticmethod
    def _newest(view: IndexView) -> dt.date | None:
        return view.remember(("newest",), lambda: day_of(int(view.day().max(initial=0))))

    def _hits(self, view: IndexView, page: list[tuple[float | None, int]], compiled: CompiledQuery,
              highlight: bool, deadline: Deadline, matching: np.ndarray | None = None,
              leads: bool = False) -> list[Hit]:
        """Hits with snippets (``leads``: the article's beginning, unmarked); with
        ``matching`` (collapsed results), each lists the other matching articles of its story."""
        stories = _stories(view) if matching is not None else None
        story_codes = view.codes("story")
        source_codes = view.codes("source")
        hits = []
        for score, docnum in page:
            deadline.check()
            stored = view.stored(docnum, text=highlight)
            title = stored.get("title")
            if not highlight:
                body = title_marks = NO_HIGHLIGHT
            elif leads:
                body, title_marks = lead(stored.get("body", ""), compiled.terms), Highlight(escape(title or ""), [])
            else:
                body = snippet(stored.get("body", ""), compiled.terms, compiled.prefixes)
                title_marks = mark_all(title or "", compiled.terms, compiled.prefixes)
            code = int(story_codes[docnum])
            others = np.zeros(0, np.int64)
            if stories is not None and code:
                members = stories.members(code)
                others = members[(members != docnum) & _within(members, matching)]
            own = int(source_codes[docnum])
            other_sources = source_codes[others]
            hits.append(Hit(
                id=stored["id"],
                title=title,
                url=stored.get("url"),
                source=view.values("source")[own],
                date=_date_string(stored.get("date")),
                score=round(score, 4) if score is not None else None,
                snippet=str(body.html),
                title_html=str(title_marks.html),
                matched=list(dict.fromkeys(title_marks.matched + body.matched)),
                story=view.values("story")[code],
                others=[_summary(view, d) for d in others[:MAX_OTHERS].tolist()],
                others_total=len(others),
                others_outlets=len(set(other_sources[other_sources != own].tolist())),
                others_same_source=int((other_sources == own).sum()),
            ))
        return hits

    def document(self, doc_id: str, q: str = "") -> dict:
        """One article in full: its text with the words of ``q`` marked, and the other
        articles carrying its story. Raises NotFound."""
        view = self._view()
        docnum, stored = _stored(view, doc_id)
        compiled = compile_query(q)
        code = int(view.codes("story")[docnum])
        copies = [d for d in _stories(view).members(code).tolist() if d != docnum]
        return {
            **_summary(view, docnum),
            "category": _code_value(view, "category", docnum),
            "story": view.values("story")[code],
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
        own_story = np.union1d(_stories(view).members(int(view.codes("story")[docnum])), [docnum])
        hits, total = [], 0
        if groups:  # (no telling words: nothing is similar)
            found = match(view, groups, [], lambda docs: ~_within(docs, own_story), deadline)
            ranked = self._ranked(view, found.any_word, found, "relevance", 1, per_page, True)
            compiled = CompiledQuery(groups=groups, terms=frozenset(terms))
            hits = self._hits(view, ranked[:per_page], compiled, True, deadline, found.any_word, leads=True)
            total = len(found.any_word)
        return SearchResult(query=" ".join(terms), total=total, page=1, per_page=per_page,
                            took_ms=round((time.perf_counter() - started) * 1000, 2), hits=hits,
                            facets={}, match="or", complete=None, stories=len(hits),
                            filters=filters_of(SearchRequest()))


def _top(docs: np.ndarray, keys: np.ndarray, depth: int) -> np.ndarray:
    """Indices of the ``depth`` largest ``keys`` (ties: the lower document number first),
    in that order."""
    if len(docs) > depth:
        # argpartition on the key alone, widened to every tie of the cut-off value.
        cut = np.partition(keys, len(keys) - depth)[len(keys) - depth]
        candidates = np.flatnonzero(keys >= cut)
    else:
        candidates = np.arange(len(docs))
    order = np.lexsort((docs[candidates], -keys[candidates]))
    return candidates[order[:depth]]
