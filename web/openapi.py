"""The OpenAPI 3.1 description of the JSON API, served at /openapi.json.

The tests validate real responses against these schemas, so the document cannot
drift from what the API returns.
"""

from __future__ import annotations

from search.analytics import MAX_SERIES, MAX_TERMS, PERIODS, SCORERS, TERMS
from search.engine import MAX_ROWS
from search.facets import FACETS, FILTERS
from search.request import DEFAULT_PER_PAGE, MAX_PER_PAGE, SORTS
from search.querylang import MAX_QUERY_CHARS


def _nullable(kind: str) -> dict:
    return {"type": [kind, "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _strict(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties, "required": required or list(properties),
            "additionalProperties": False}


_DATE = {"type": "string", "format": "date"}
_WARNINGS = {"type": "array", "items": _strict({"code": {"type": "string"}, "message": {"type": "string"}})}
_SUMMARY = _strict({"id": {"type": "string"}, "title": _nullable("string"), "source": _nullable("string"),
                    "date": {"type": ["string", "null"], "format": "date"}, "url": _nullable("string")})
_HIT = _strict({
    "id": {"type": "string"}, "title": _nullable("string"), "url": _nullable("string"),
    "source": _nullable("string"), "date": {"type": ["string", "null"], "format": "date"},
    "score": {"type": ["number", "null"], "description": "BM25; null when sorted by date"},
    "snippet": {"type": "string", "description": "HTML: escaped text, matches in <mark>"},
    "title_html": {"type": "string", "description": "HTML: the escaped title, matches in <mark>"},
    "matched": {"type": "array", "items": {"type": "string"}, "description": "surface forms that matched"},
    "story": {"type": ["string", "null"], "description": "id of the first article of this story"},
    "others": {"type": "array", "items": _ref("Summary"),
               "description": "other matching articles carrying the same story (at most 10)"},
    "others_total": {"type": "integer", "minimum": 0},
    "others_outlets": {"type": "integer", "minimum": 0, "description": "other outlets among others_total"},
    "others_same_source": {"type": "integer", "minimum": 0,
                           "description": "copies among others_total from this hit's own outlet"},
})
_FACET = {"type": "array", "items": _strict({"value": _nullable("string"), "count": {"type": "integer", "minimum": 1}})}
_RESULT = _strict({
    "query": {"type": "string"},
    "total": {"type": "integer", "minimum": 0, "description": "matching articles"},
    "page": {"type": "integer", "minimum": 1},
    "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
    "pages": {"type": "integer", "minimum": 1},
    "took_ms": {"type": "number", "minimum": 0},
    "match": {"enum": ["and", "or", "all"],
              "description": "and: every hit has every word; or: any word, those with more first; all: browsing"},
    "complete": {"type": ["integer", "null"], "description": "hits holding every word"},
    "stories": {"type": "integer", "minimum": 0, "description": "distinct stories among the matching articles"},
    "collapse": {"type": "boolean"},
    "suggestion": {"type": ["string", "null"], "description": "did-you-mean: the query with unknown words corrected"},
    "sort": {"enum": list(SORTS)},
    "filters": _strict({**{facet.key: {"type": "array", "items": _nullable("string")} for facet in FILTERS},
                        "from": {"type": ["string", "null"], "format": "date"},
                        "to": {"type": ["string", "null"], "format": "date"}}),
    "hits": {"type": "array", "items": _ref("Hit")},
    "facets": {"type": "object", "additionalProperties": False,
               "properties": {facet.key: {**_FACET, "description": facet.description} for facet in FACETS},
               "description": "counts over the result set, each without its own filter; a coded facet "
                              "only when the index has values for it"},
    "histogram": {"oneOf": [{"type": "object", "maxProperties": 0}, _strict({
        "interval": {"enum": ["month", "year"]},
        "buckets": {"type": "array", "items": _strict({
            "key": {"type": "string"}, "count": {"type": "integer", "minimum": 0}, "from": _DATE, "to": _DATE})}})]},
    "date_presets": {"type": "array", "items": _strict({
        "key": {"enum": ["day", "week", "month", "year"]}, "from": _DATE, "to": _DATE}),
        "description": "ranges counted back from the newest article in the index"},
    "warnings": {**_WARNINGS, "description": "what the search could not take as asked (unknown_source: a source filter "
                                "naming no known source)"},
})
_DOCUMENT = _strict({
    **_SUMMARY["properties"],
    "category": _nullable("string"), "story": _nullable("string"),
    "title_html": {"type": "string"}, "body": {"type": "string"},
    "body_html": {"type": "string", "description": "the whole text, escaped, words of q in <mark>"},
    "copies": {"type": "array", "items": _ref("Summary"), "description": "other articles of the same story"},
})
_TRENDS = _strict({
    "by": {"enum": list(PERIODS), "description": "the period counted over (chosen from the span when not asked)"},
    "series": {"type": "array", "items": _strict({
        "query": {"type": "string"},
        "points": {"type": "array", "items": _strict({
            "period": {"type": "string", "description": "YYYY-MM-DD (a day, or a week's Monday), YYYY-MM or YYYY"},
            "count": {"type": "integer", "minimum": 0, "description": "articles with every word of the query"},
            "share": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                      "description": "count over every article the filters (and the query's source: clauses) "
                                     "let through in the period; null when there is none"}})}}),
        "description": "one per query, in the order asked, over the same periods"},
    "took_ms": {"type": "number", "minimum": 0},
    "warnings": _WARNINGS,
})
_TERMS = _strict({
    "query": {"type": "string"},
    "foreground": {"type": "integer", "minimum": 0, "description": "best hits the words are counted over"},
    "archive": {"type": "integer", "minimum": 0, "description": "articles they are compared with"},
    "scorer": {"enum": list(SCORERS)},
    "terms": {"type": "array", "items": _strict({
        "text": {"type": "string", "description": "a word or two-word phrase as the articles write it"},
        "score": {"type": "number", "minimum": 0, "description": "how distinctive (higher: more)"},
        "count": {"type": "integer", "minimum": 1, "description": "foreground articles using it"}})},
    "took_ms": {"type": "number", "minimum": 0},
    "warnings": _WARNINGS,
})
_ERROR = _strict({"error": _strict({"code": {"type": "string"}, "message": {"type": "string"}})})


def _param(name: str, description: str, schema: dict, where: str = "query", required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


_DOWNLOADS = {"text/csv": {"schema": {"type": "string"}},
              "application/x-ndjson": {"schema": {"type": "string"}}}


def _responses(ok_schema: str, *errors: int, downloads: bool = False) -> dict:
    content = {"application/json": {"schema": _ref(ok_schema)}, **(_DOWNLOADS if downloads else {})}
    out = {"200": {"description": "OK" + (" (format=csv or jsonl: the whole list as an attachment, "
                                          "CSV in UTF-8 with a byte-order mark)" if downloads else ""),
                   "content": content}}
    for status in errors:
        out[str(status)] = {"description": {400: "bad parameter", 404: "no such document", 429: "rate limited",
                                            503: "no index, unreadable index, or timeout"}[status],
                            "content": {"application/json": {"schema": _ref("Error")}}}
    return out


_DOC_ID = _param("id", "document id", {"type": "string"}, where="path", required=True)
_QUERY_SYNTAX = "query: words, \"phrase\", -exclude, OR/أو, word*, title:/عنوان:, source:/مصدر:"
_FILTER_PARAMS = [
    *[_param(facet.key, facet.description, {"type": "array", "items": {"type": "string"}}) for facet in FILTERS],
    _param("from", "first day", _DATE), _param("to", "last day", _DATE),
]


def _format(what: str) -> dict:
    return _param("format", f"json (default), or csv / jsonl to download {what}",
                  {"enum": ["json", "csv", "jsonl"], "default": "json"})


_SEARCH_PARAMS = [
    _param("q", _QUERY_SYNTAX, {"type": "string", "maxLength": MAX_QUERY_CHARS}),
    *_FILTER_PARAMS,
    _param("sort", "order", {"enum": list(SORTS), "default": "relevance"}),
    _param("page", "page number", {"type": "integer", "minimum": 1, "default": 1}),
    _param("per_page", "hits per page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                                         "default": DEFAULT_PER_PAGE}),
    _param("collapse", "one hit per story", {"type": "boolean", "default": True}),
    _format(f"every hit (up to {MAX_ROWS:,}: id, title, source, date, url, score, story) or, with "
            "list=facets, every facet count (facet, value, count)"),
    _param("list", "what format=csv|jsonl downloads", {"enum": ["hits", "facets"], "default": "hits"}),
]
_TRENDS_PARAMS = [
    _param("q", f"a query to count (repeat for up to {MAX_SERIES}); its own source: clauses apply to it alone",
           {"type": "array", "items": {"type": "string", "maxLength": MAX_QUERY_CHARS},
            "minItems": 1, "maxItems": MAX_SERIES}, required=True),
    *_FILTER_PARAMS,
    _param("by", "period counted over (default: from the span found: days up to 45 days, weeks up to a "
                 "year, months up to six years, then years)", {"enum": list(PERIODS)}),
    _format("the counts (query, period, count, share)"),
]
_TERMS_PARAMS = [
    _param("q", _QUERY_SYNTAX, {"type": "string", "maxLength": MAX_QUERY_CHARS}, required=True),
    *_FILTER_PARAMS,
    _param("limit", "words and phrases listed", {"type": "integer", "minimum": 1, "maximum": MAX_TERMS,
                                                  "default": TERMS}),
    _param("scorer", "how distinctive: g2 (log-likelihood), jlh (Elasticsearch's default) or chi2",
           {"enum": list(SCORERS), "default": "g2"}),
    _format("the list (text, score, count)"),
]


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Bahth (بحث) search API", "version": "1.0.0",
                 "description": "Full-text search over Arabic political news."},
        "paths": {
            "/api/search": {"get": {"summary": "Search", "parameters": _SEARCH_PARAMS,
                                    "responses": _responses("SearchResult", 400, 429, 503, downloads=True)}},
            "/api/trends": {"get": {"summary": "Attention over time: articles per period for up to four queries",
                                    "parameters": _TRENDS_PARAMS,
                                    "responses": _responses("Trends", 400, 429, 503, downloads=True)}},
            "/api/terms": {"get": {"summary": "What a result set is about: its most distinctive words and phrases",
                                   "parameters": _TERMS_PARAMS,
                                   "responses": _responses("Terms", 400, 429, 503, downloads=True)}},
            "/api/documents/{id}": {"get": {
                "summary": "One article in full",
                "parameters": [_DOC_ID, _param("q", "words to mark in the text", {"type": "string"})],
                "responses": _responses("Document", 404, 429, 503)}},
            "/api/similar/{id}": {"get": {
                "summary": "More like this (same hit shape as search)",
                "parameters": [_DOC_ID, _param("per_page", "hits", {"type": "integer", "minimum": 1,
                                                                     "maximum": MAX_PER_PAGE, "default": 10})],
                "responses": _responses("SearchResult", 400, 404, 429, 503)}},
            "/api/suggest": {"get": {
                "summary": "Completions of a query being typed",
                "parameters": [_param("q", "the text typed so far", {"type": "string", "maxLength": 100})],
                "responses": _responses("Suggestions", 400, 429, 503)}},
            "/healthz": {"get": {"summary": "Liveness and document count",
                                 "responses": _responses("Health", 503)}},
        },
        "components": {"schemas": {
            "SearchResult": _RESULT, "Trends": _TRENDS, "Terms": _TERMS, "Hit": _HIT, "Summary": _SUMMARY, "Document": _DOCUMENT,
            "Suggestions": _strict({"query": {"type": "string"},
                                    "suggestions": {"type": "array", "items": {"type": "string"}}}),
            "Health": _strict({"status": {"const": "ok"}, "documents": {"type": "integer", "minimum": 0}}),
            "Error": _ERROR,
        }},
    }
