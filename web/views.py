"""Routes: the search page and the JSON API render the same SearchResult."""

from __future__ import annotations

import functools

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup

from search.engine import NotFound
from search.indexer import IndexProblem
from search.matching import QueryTimeout
from search.request import MAX_PER_PAGE, BadRequest, SearchRequest, parse_int
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


def _api_error(status: int, code: str, message: str):
    return jsonify({"error": {"code": code, "message": message}}), status


#: Routes that run searches, and so are rate limited per client.
LIMITED_ENDPOINTS = {"bahth.search_page", "bahth.api_search", "bahth.document_page", "bahth.api_document",
                     "bahth.api_similar", "bahth.api_suggest", "bahth.feed"}
TIMEOUT_MESSAGE = ("استغرق البحث وقتاً أطول من المسموح؛ جرّب كلمات أقل أو أندر، "
                   "أو صفِّ النتائج حسب المصدر أو التاريخ")
FEED_SIZE = 20
SIMILAR_ON_PAGE = 5


def api_route(rule: str):
    """A JSON route: our exceptions become JSON errors with the right status."""
    def decorate(view):
        @bp.route(rule)
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except BadRequest as error:
                return _api_error(400, error.code, error.message)
            except NotFound as error:
                return _api_error(404, "not_found", str(error))
            except IndexProblem as error:
                return _api_error(503, error.code, str(error))
            except QueryTimeout as error:
                response, status = _api_error(503, "timeout", str(error))
                response.headers["Retry-After"] = "1"
                return response, status
        return wrapped
    return decorate


def page_route(rule: str):
    """An HTML route: our exceptions become the page with an Arabic message."""
    def decorate(view):
        @bp.route(rule)
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            q = request.args.get("q", "")
            try:
                return view(*args, **kwargs)
            except BadRequest as error:
                return render_template("search.html", error=error.message, q=q), 400
            except NotFound:
                return render_template("search.html", error="لا توجد مقالة بهذا المعرّف", q=q), 404
            except IndexProblem as error:
                return render_template("search.html", error=str(error), q=q), 503
            except QueryTimeout:
                return render_template("search.html", error=TIMEOUT_MESSAGE, q=q), 503, {"Retry-After": "1"}
        return wrapped
    return decorate


@bp.before_app_request
def rate_limit():
    if request.endpoint not in LIMITED_ENDPOINTS:
        return None
    wait = current_app.extensions["bahth_rate_limiter"].acquire(request.remote_addr or "unknown")
    if not wait:
        return None
    headers = {"Retry-After": retry_after(wait)}
    if request.path.startswith("/api/"):
        response, status = _api_error(429, "rate_limited", "too many requests from this address; "
                                      f"retry after {headers['Retry-After']} s")
        return response, status, headers
    return (render_template("search.html", error="طلبات كثيرة في وقت قصير؛ أعد المحاولة بعد لحظات",
                            q=request.args.get("q", "")), 429, headers)


@bp.after_app_request
def security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@page_route("/")
def search_page():
    search_request = _request_from_args()
    result = _engine().search(search_request)
    return render_template("search.html", result=result, hits=_marked(result.hits), q=search_request.q,
                           request_=search_request)


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


@api_route("/api/search")
def api_search():
    return jsonify(_engine().search(_request_from_args()).to_dict())


@api_route("/api/documents/<path:doc_id>")
def api_document(doc_id: str):
    return jsonify(_engine().document(doc_id, request.args.get("q", "")[:1000]))


@api_route("/api/similar/<path:doc_id>")
def api_similar(doc_id: str):
    per_page = parse_int(request.args.get("per_page"), "per_page", 10)
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise BadRequest("bad_per_page", f"per_page must be between 1 and {MAX_PER_PAGE}")
    return jsonify(_engine().similar(doc_id, per_page).to_dict())


@api_route("/api/suggest")
def api_suggest():
    q = request.args.get("q", "")
    if len(q) > 100:
        raise BadRequest("query_too_long", "suggestions are for queries of at most 100 characters")
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


@bp.route("/healthz")
def health():
    try:
        return jsonify({"status": "ok", "documents": _engine().doc_count()})
    except IndexProblem as error:
        return _api_error(503, error.code, str(error))


@bp.app_errorhandler(404)
def not_found(error):
    if request.path.startswith("/api/"):
        return _api_error(404, "not_found", "no such API endpoint")
    return render_template("search.html", error="الصفحة غير موجودة", q=""), 404


@bp.app_errorhandler(405)
def method_not_allowed(error):
    return _api_error(405, "method_not_allowed", "only GET is supported")


@bp.app_errorhandler(413)
def too_large(error):
    return _api_error(413, "too_large", "request too large")


@bp.app_errorhandler(500)
def server_error(error):
    current_app.logger.exception("unhandled error")
    return _api_error(500, "internal", "internal error")
