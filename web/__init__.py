"""The Flask front end: the search page and its JSON twin over one Engine."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from search.engine import Engine
from search.matching import DEFAULT_TIME_LIMIT
from search.paths import default_index_dir
from web.ratelimit import RateLimiter

#: Options of the production server (waitress). Only GET is served and a query is at
#: most 1,000 characters, so larger requests are refused before Flask sees them.
SERVER_OPTIONS = {"ident": "bahth", "max_request_header_size": 64 * 1024,
                  "max_request_body_size": 64 * 1024}
DEFAULT_RATE = 10.0  # searches per second per client, after a burst of
DEFAULT_BURST = 30


def create_app(config: dict | None = None) -> Flask:
    """Application factory. ``INDEX_DIR`` defaults to ``$BAHTH_INDEX_DIR`` or ``index/``;
    ``QUERY_TIME_LIMIT`` is the seconds one search may run; ``RATE_LIMIT`` (searches per
    second per client, 0 = off) and ``RATE_BURST`` bound each client."""
    app = Flask(__name__)
    app.config.update(INDEX_DIR=None, MAX_CONTENT_LENGTH=64 * 1024, JSON_AS_ASCII=False,
                      QUERY_TIME_LIMIT=DEFAULT_TIME_LIMIT, RATE_LIMIT=DEFAULT_RATE, RATE_BURST=DEFAULT_BURST)
    app.config.update(config or {})
    app.config["INDEX_DIR"] = Path(app.config["INDEX_DIR"] or default_index_dir())
    app.json.ensure_ascii = False
    app.json.sort_keys = False  # keep the response in its documented order
    app.extensions["bahth_engine"] = Engine(app.config["INDEX_DIR"], app.config["QUERY_TIME_LIMIT"])
    app.extensions["bahth_rate_limiter"] = RateLimiter(app.config["RATE_LIMIT"], app.config["RATE_BURST"])

    from web import format as fmt
    from web.views import bp

    fmt.register(app)
    app.register_blueprint(bp)
    return app
