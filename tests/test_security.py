"""Security: escaping of hostile strings, rate limiting, request limits, path traversal,
no debug mode. All against the real app (and the real server where it matters)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from urllib.parse import quote
from xml.etree import ElementTree

import pytest

from search.indexer import build_index
from search.paths import SEEDS_DIR
from tests.conftest import serving
from web import create_app
from web.ratelimit import MAX_CLIENTS, RateLimiter

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "' onmouseover='alert(3)' x='",
    "</textarea><svg/onload=alert(4)>",
    "javascript:alert(5)",
    "{{7*7}}{% raw %}",
]


class _Elements(HTMLParser):
    """Every element and attribute the browser would build from the page."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script" and attrs in ([("src", "/static/suggest.js"), ("defer", None)],
                                         [("src", "/static/filters.js"), ("defer", None)]):
            tag = "our-script"  # the page's own scripts (autocomplete, folding filters), nothing else
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)


def assert_inert(page: str) -> None:
    parser = _Elements()
    parser.feed(page)
    assert not {"script", "img", "svg", "iframe", "textarea"} & set(parser.tags), parser.tags
    assert not [name for name, _ in parser.attributes if name.startswith("on")]
    assert not [v for name, v in parser.attributes if name in ("href", "src", "action")
                and v.strip().lower().startswith("javascript:")]
    assert "49" not in page.replace("1049", "")  # {{7*7}} was not evaluated


@pytest.fixture()
def hostile_app(tmp_path):
    """An index whose every field carries a payload."""
    lines = []
    for number, payload in enumerate(PAYLOADS):
        lines.append(json.dumps({
            "id": f"evil{number}{payload}", "source": f"وكالة {payload}", "date": "2020-01-01",
            "title": f"حماس {payload}", "url": payload if "javascript" in payload else f"http://x/{payload}",
            "category": payload, "text": f"حماس في غزة {payload} نهاية الخبر"}, ensure_ascii=False))
    corpus = tmp_path / "evil.jsonl"
    corpus.write_text("\n".join(lines) + "\n", "utf-8")
    build_index([corpus], tmp_path / "ix")
    return create_app({"INDEX_DIR": tmp_path / "ix", "RATE_LIMIT": 0})


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_query_and_documents_are_escaped_everywhere(hostile_app, payload):
    client = hostile_app.test_client()
    for params in ({"q": f"حماس {payload}"}, {"q": "حماس", "source": f"وكالة {payload}"},
                   {"q": payload}, {"q": "حماس", "sort": "date"}, {"q": "حماس", "page": payload}):
        page = client.get("/", query_string=params).get_data(as_text=True)
        assert_inert(page)
    data = client.get("/api/search", query_string={"q": "حماس", "per_page": 20}).get_json()
    assert len(data["hits"]) == len(PAYLOADS)
    for hit in data["hits"]:
        for html_field in (hit["snippet"], hit["title_html"]):
            assert_inert(html_field)
            assert html_field.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    doc_id = next(h["id"] for h in data["hits"] if payload in h["id"])
    for q in ("حماس", payload):  # the article page, its similar articles, with q marked
        response = client.get(f"/doc/{quote(doc_id, safe='')}", query_string={"q": q})
        assert response.status_code == 200 and payload in response.get_data(as_text=True).replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        assert_inert(response.get_data(as_text=True))
    document = client.get(f"/api/documents/{quote(doc_id, safe='')}", query_string={"q": "حماس"}).get_json()
    assert document["id"] == doc_id
    assert_inert(document["body_html"]) and assert_inert(document["title_html"])
    # The feed is XML: the payloads are text in it, and its HTML summaries are inert.
    feed = ElementTree.fromstring(client.get("/feed", query_string={"q": f"حماس {payload}"}).data)
    atom = "{http://www.w3.org/2005/Atom}"
    titles = [e.findtext(f"{atom}title") for e in feed.iter(f"{atom}entry")]
    assert f"حماس {payload}" in titles
    for summary in feed.iter(f"{atom}summary"):
        assert_inert(summary.text)
    page = client.get("/", query_string={"q": "حماس", "category": payload}).get_data(as_text=True)
    assert_inert(page)


def test_rate_limit_answers_429_with_retry_after_per_client(seed_index):
    client = create_app({"INDEX_DIR": seed_index, "RATE_LIMIT": 4, "RATE_BURST": 2}).test_client()
    statuses = [client.get("/api/search?q=حماس").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = client.get("/api/search?q=حماس")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.get_json()["error"]["code"] == "rate_limited"
    page = client.get("/?q=حماس")
    assert page.status_code == 429 and "طلبات كثيرة" in page.get_data(as_text=True)
    other = client.get("/api/search?q=حماس", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200  # another client has its own bucket
    assert client.get("/healthz").status_code == 200  # health checks and assets are not limited
    assert client.get("/static/style.css").status_code == 200
    time.sleep(0.6)  # refills at 4 per second
    assert client.get("/api/search?q=حماس").status_code == 200


def test_rate_limiter_memory_stays_bounded():
    limiter = RateLimiter(rate=1000, burst=1)
    for n in range(MAX_CLIENTS * 2):
        limiter.acquire(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
        time.sleep(0) if n % 5000 else time.sleep(0.01)  # let early buckets refill to idle
    assert len(limiter._buckets) <= MAX_CLIENTS + 1


@pytest.mark.parametrize("path", [
    "/static/../pyproject.toml", "/static/%2e%2e/pyproject.toml", "/static/..%2fpyproject.toml",
    "/static/%2e%2e%2f%2e%2e%2fetc/passwd", "/static//etc/passwd", "/static/....//pyproject.toml",
    "/../../etc/passwd", "/api/../../etc/passwd", "/static/%00style.css",
])
def test_no_path_traversal(client, path):
    response = client.get(path, follow_redirects=True)  # // is merged by a redirect inside /static/
    body = response.get_data(as_text=True)
    assert response.status_code in (400, 404)
    assert "root:" not in body and "[project]" not in body


def test_real_server_refuses_oversized_requests_and_never_debugs(seed_index):
    app = create_app({"INDEX_DIR": seed_index})
    assert not app.debug and not app.testing
    with serving(seed_index, RATE_LIMIT=0) as url:
        request = urllib.request.Request(url + "/api/search", data=b"x" * 200_000, method="POST")
        with pytest.raises(urllib.error.HTTPError) as posted:
            urllib.request.urlopen(request, timeout=10)
        assert posted.value.code in (405, 413)
        with pytest.raises(urllib.error.HTTPError) as huge_url:  # refused by waitress itself
            urllib.request.urlopen(url + "/api/search?q=" + "%D8%A8" * 20_000, timeout=10)
        assert huge_url.value.code in (400, 431)
        with pytest.raises(urllib.error.HTTPError) as long_query:
            urllib.request.urlopen(url + "/api/search?q=" + "%D8%A8" * 2000, timeout=10)
        assert long_query.value.code == 400
        assert json.loads(long_query.value.read())["error"]["code"] == "query_too_long"


def test_a_damaged_index_is_a_503_that_says_what_to_do_without_internals(tmp_path):
    summary = build_index([SEEDS_DIR], tmp_path)
    for segment_file in (tmp_path / summary.generation).glob("*.trm"):
        segment_file.write_bytes(b"\0" * 64)
    client = create_app({"INDEX_DIR": tmp_path}).test_client()
    response = client.get("/api/search?q=حماس")
    body = response.get_data(as_text=True)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "index_unreadable"
    assert "bahth index --check" in body
    assert "Traceback" not in body and "File \"" not in body
