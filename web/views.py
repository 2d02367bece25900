"""Routes: the search page and the JSON API render the same SearchResult."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from markupsafe import Markup

from search.matching import QueryTimeout
from search.indexer import IndexProblem
from search.request import BadRequest, SearchRequest
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
LIMITED_ENDPOINTS = {"bahth.search_page", "bahth.api_search"}


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


@bp.route("/")
def search_page():
    try:
        search_request = _request_from_args()
        result = _engine().search(search_request)
    except BadRequest as error:
        return render_template("search.html", error=error.message, q=request.args.get("q", "")), 400
    except IndexProblem as error:
        return render_template("search.html", error=str(error), q=request.args.get("q", "")), 503
    except QueryTimeout:
        return render_template("search.html", error="استغرق البحث وقتاً أطول من المسموح؛ جرّب كلمات أقل "
                               "أو أندر، أو صفِّ النتائج حسب المصدر أو التاريخ",
                               q=request.args.get("q", "")), 503, {"Retry-After": "1"}
    hits = [dict(h.to_dict(), snippet=Markup(h.snippet), title_html=Markup(h.title_html))
            for h in result.hits]
    return render_template("search.html", result=result, hits=hits, q=search_request.q,
                           request_=search_request)


@bp.route("/api/search")
def api_search():
    try:
        result = _engine().search(_request_from_args())
    except BadRequest as error:
        return _api_error(400, error.code, error.message)
    except IndexProblem as error:
        return _api_error(503, error.code, str(error))
    except QueryTimeout as error:
        response, status = _api_error(503, "timeout", str(error))
        response.headers["Retry-After"] = "1"
        return response, status
    return jsonify(result.to_dict())


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
