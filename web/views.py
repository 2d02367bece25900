"""Routes: the search page and the JSON API render the same SearchResult."""

from __future__ import annotations

import functools

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup

from search.errors import BadRequest, BahthError, NotFound, RateLimited
from search.facets import BY_KEY, ENTITY_FACETS
from search.request import MAX_PER_PAGE, SearchRequest, parse_int
from search.analytics import MAX_SERIES, PERIODS, TERMS, mentions, terms, trends
from web.charts import Line, legend, line_chart
from web.downloads import download, download_format
from web.format import PERIOD_LABELS, period_name
from web.openapi import openapi_document
from web.ratelimit import retry_after

bp = Blueprint("bahth", __name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _engine():
    return current_app.extensions["bahth_engine"]


def _request_from_args() -> SearchRequest:
    return SearchRequest.from_params(request.args.get, request.args.getlist)


def _page_request(left_out: tuple[str, ...] = ()) -> tuple[SearchRequest, list[BadRequest]]:
    """The page's request, leaving out the parameters that are wrong (each one a problem
    to report), so that the page still shows what the others ask for. ``left_out``
    parameters are not part of the search request (the trends page's several ``q``)."""
    problems: list[BadRequest] = []
    ignored: set[str] = set(left_out)
    while True:
        try:
            return SearchRequest.from_params(lambda k: None if k in ignored else request.args.get(k),
                                             lambda k: [] if k in ignored else request.args.getlist(k)), problems
        except BadRequest as error:
            if not error.params or set(error.params) <= ignored:
                raise
            problems.append(error)
            ignored.update(error.params)


def _headers(error: BahthError) -> dict:
    return {"Retry-After": str(error.retry_after)} if error.retry_after else {}


def api_error(error: BahthError):
    """An error as the JSON API answers it."""
    return jsonify(error.to_dict()), error.status, _headers(error)


def page_error(error: BahthError):
    """An error as the page shows it: in Arabic, with the search box and the query kept."""
    return (render_template("search.html", errors=[error], q=request.args.get("q", "")[:1000]),
            error.status, _headers(error))


#: Routes that run searches, and so are rate limited per client.
LIMITED_ENDPOINTS = {"bahth.search_page", "bahth.api_search", "bahth.document_page", "bahth.api_document",
                     "bahth.api_similar", "bahth.api_suggest", "bahth.feed", "bahth.api_trends", "bahth.api_terms",
                     "bahth.trends_page", "bahth.terms_page"}
FEED_SIZE = 20
SIMILAR_ON_PAGE = 5


def _route(rule: str, render_error):
    def decorate(view):
        @bp.route(rule)
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except BahthError as error:
                return render_error(error)
        return wrapped
    return decorate


def api_route(rule: str):
    """A JSON route: errors as JSON with their status."""
    return _route(rule, api_error)


def page_route(rule: str):
    """An HTML route: errors as the page with an Arabic message."""
    return _route(rule, page_error)


@bp.before_app_request
def rate_limit():
    if request.endpoint not in LIMITED_ENDPOINTS:
        return None
    wait = current_app.extensions["bahth_rate_limiter"].acquire(request.remote_addr or "unknown")
    if not wait:
        return None
    error = RateLimited(int(retry_after(wait)))
    return api_error(error) if request.path.startswith("/api/") else page_error(error)


@bp.after_app_request
def security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@page_route("/")
def search_page():
    search_request, problems = _page_request()
    result = _engine().search(search_request)
    page = render_template("search.html", result=result, hits=_marked(result.hits), q=search_request.q,
                           request_=search_request, errors=problems)
    return page, 400 if problems else 200


def _marked(hits) -> list[dict]:
    """Hits for a template: the engine's snippets are already escaped HTML with marks."""
    return [dict(h.to_dict(), snippet=Markup(h.snippet), title_html=Markup(h.title_html)) for h in hits]


@page_route("/doc/<path:doc_id>")
def document_page(doc_id: str):
    q = request.args.get("q", "")[:1000]
    engine = _engine()
    document = engine.document(doc_id, q)
    similar = engine.similar(doc_id, SIMILAR_ON_PAGE)
    return render_template("document.html", doc=document, body_html=Markup(document["body_html"]),
                           title_html=Markup(document["title_html"]), similar=_marked(similar.hits), q=q)


HIT_COLUMNS = ["id", "title", "source", "date", "url", "score", "story"]


@api_route("/api/search")
def api_search():
    search_request = _request_from_args()
    fmt = download_format(request.args.get("format"))
    if fmt is None:
        return jsonify(_engine().search(search_request).to_dict())
    if request.args.get("list", "hits") == "facets":
        facets = _engine().search(search_request, highlight=False).facets
        rows = ({"facet": name, "value": f["value"], "count": f["count"]} for name, values in facets.items()
                for f in values)
        return download(rows, ["facet", "value", "count"], fmt, "bahth-facets")
    return download(_engine().rows(search_request), HIT_COLUMNS, fmt, "bahth-hits")


def _queries() -> list[str]:
    """The trends' queries: every non-empty ``q``."""
    return [q.strip() for q in request.args.getlist("q") if q.strip()]


def _shared_args() -> dict:
    """The filters of the request, to carry from one page to another."""
    return {k: v for k, v in request.args.to_dict(flat=False).items()
            if k not in ("q", "by", "show", "format", "page", "per_page", "sort")}


@api_route("/api/trends")
def api_trends():
    fmt = download_format(request.args.get("format"))
    shared = SearchRequest.from_params(lambda k: None if k == "q" else request.args.get(k), request.args.getlist)
    result = trends(_engine(), _queries(), shared, request.args.get("by") or None)
    if fmt is None:
        return jsonify(result.to_dict())
    return download(result.rows(), list(result.COLUMNS), fmt, "bahth-trends")


@api_route("/api/terms")
def api_terms():
    fmt = download_format(request.args.get("format"))
    limit = parse_int(request.args.get("limit"), "limit", TERMS)
    result = terms(_engine(), _request_from_args(), limit, request.args.get("scorer") or "g2")
    if fmt is None:
        return jsonify(result.to_dict())
    return download(result.rows(), list(result.COLUMNS), fmt, "bahth-terms")


@page_route("/trends")
def trends_page():
    queries = _queries()
    shared, problems = _page_request(left_out=("q",))
    by = request.args.get("by") or None
    share = request.args.get("show") == "share"
    result = None
    if queries:
        try:
            result = trends(_engine(), queries, shared, by)
        except BadRequest as error:  # a wrong period or too many queries: say so, count the rest
            if not error.params:
                raise
            problems.append(error)
            by = None
            result = trends(_engine(), queries[:MAX_SERIES], shared, None)
    chart = None
    if result and result.series and result.series[0].points:
        periods = [p["period"] for p in result.series[0].points]
        lines = [Line(s.query, [p["share"] if share else p["count"] for p in s.points]) for s in result.series]
        shown = [periods[0], periods[(len(periods) - 1) // 2], periods[-1]] if len(periods) > 2 else periods
        title = ("حصة التغطية" if share else "عدد المقالات") + " في كل " + PERIOD_LABELS[result.by]
        chart = {"svg": line_chart(title, periods, lines, share, [period_name(p, result.by) for p in shown]),
                 "legend": legend(lines), "title": title, "periods": periods}
    page = render_template("trends.html", result=result, chart=chart, queries=queries[:MAX_SERIES],
                           request_=shared, share=share, by_asked=by if by in PERIODS else None,
                           shared_args=_shared_args(), errors=problems, q="")
    return page, 400 if problems else 200  # (as the search page: said on the page, the rest shown)


@page_route("/terms")
def terms_page():
    search_request, problems = _page_request()
    result = terms(_engine(), search_request) if search_request.q else None
    counted, every_word, facets = mentions(_engine(), search_request) if search_request.q else (0, False, {})
    page = render_template("terms.html", result=result, facets=facets, every_word=every_word,
                           total=counted, q=search_request.q, request_=search_request,
                           errors=problems, shared_args=_shared_args(),
                           LABELS={key: BY_KEY[key].label for key in ENTITY_FACETS})
    return page, 400 if problems else 200


@api_route("/api/documents/<path:doc_id>")
def api_document(doc_id: str):
    return jsonify(_engine().document(doc_id, request.args.get("q", "")[:1000]))


@api_route("/api/similar/<path:doc_id>")
def api_similar(doc_id: str):
    per_page = parse_int(request.args.get("per_page"), "per_page", 10)
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise BadRequest("bad_per_page", f"per_page must be between 1 and {MAX_PER_PAGE}",
                         f"عدد النتائج في الصفحة بين 1 و{MAX_PER_PAGE}", params=("per_page",))
    return jsonify(_engine().similar(doc_id, per_page).to_dict())


@api_route("/api/suggest")
def api_suggest():
    q = request.args.get("q", "")
    if len(q) > 100:
        raise BadRequest("query_too_long", "suggestions are for queries of at most 100 characters",
                         "الإكمال التلقائي لنصوص حتى 100 حرف", params=("q",))
    return jsonify({"query": q, "suggestions": _engine().suggest(q)})


@api_route("/feed")
def feed():
    """An Atom feed of a search, newest first (filters as on the page); errors as JSON."""
    fixed = {"sort": "date", "page": "1", "per_page": str(FEED_SIZE)}
    search_request = SearchRequest.from_params(lambda k: fixed.get(k, request.args.get(k)),
                                               request.args.getlist)
    result = _engine().search(search_request)
    body = render_template("feed.xml", result=result, q=search_request.q,
                           self_url=request.url, page_url=url_for("bahth.search_page", _external=True,
                                                                  **request.args.to_dict(flat=False)))
    return body, 200, {"Content-Type": "application/atom+xml; charset=utf-8"}


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@api_route("/healthz")
def health():
    return jsonify({"status": "ok", "documents": _engine().health()})


@bp.app_errorhandler(404)
def not_found(error):
    missing = NotFound("no such API endpoint" if request.path.startswith("/api/") else "no such page",
                       "الصفحة غير موجودة")
    return api_error(missing) if request.path.startswith("/api/") else page_error(missing)


def _http_error(status: int, code: str, message: str):
    return api_error(BahthError(message, code=code, status=status))


@bp.app_errorhandler(405)
def method_not_allowed(error):
    return _http_error(405, "method_not_allowed", "only GET is supported")


@bp.app_errorhandler(413)
def too_large(error):
    return _http_error(413, "too_large", "request too large")


@bp.app_errorhandler(500)
def server_error(error):
    current_app.logger.exception("unhandled error")
    return _http_error(500, "internal", "internal error")
