"""Routes: the search page and the JSON API render the same SearchResult."""

from __future__ import annotations

import functools

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup

from search.errors import BadRequest, BahthError, NotFound, RateLimited
from search.request import MAX_PER_PAGE, SearchRequest, parse_int
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


def _page_request() -> tuple[SearchRequest, list[BadRequest]]:
    """The page's request, leaving out the parameters that are wrong (each one a problem
    to report), so that the page still shows what the others ask for."""
    problems: list[BadRequest] = []
    ignored: set[str] = set()
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
                     "bahth.api_similar", "bahth.api_suggest", "bahth.feed"}
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
