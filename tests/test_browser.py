"""The search page in a real browser (Debian's chromium driven by Playwright)."""

from pathlib import Path

import pytest

from conftest import ARTIFACTS, serving

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def base_url(seed_index):
    with serving(seed_index) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (`make test` installs it with apt)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(locale="ar", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_type_a_query_use_facets_and_paginate(page, base_url):
    failures = []  # (a missing icon or script shows as a console error in every page)
    page.on("console", lambda message: failures.append(message.text) if message.type == "error" else None)
    page.goto(base_url + "/")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page.get_attribute("html", "lang") == "ar"
    page.fill("#q", "القسام")
    page.keyboard.press("Enter")
    page.wait_for_selector("li.hit")
    assert page.locator("li.hit").count() == 2
    assert page.locator("li.hit mark", has_text="القســـــام").count() >= 1
    # RTL layout: the facet sidebar stands to the right of the results.
    aside, results = page.locator("aside.facets").bounding_box(), page.locator("section.results").bounding_box()
    assert aside["x"] > results["x"]
    assert failures == []
    shot(page, "search-qassam")

    page.fill("#q", "حماس")
    with page.expect_navigation():  # (the previous page's hits must not be counted)
        page.keyboard.press("Enter")
    assert page.locator("li.hit").count() == 5
    with page.expect_navigation():
        page.locator("aside.facets a", has_text="صدى نيوز").click()
    assert page.locator("li.hit").count() == 2
    assert set(page.locator("li.hit .source").all_inner_texts()) == {"صدى نيوز"}
    shot(page, "facet-source")
    with page.expect_navigation():  # unfilter
        page.locator("aside.facets a.active", has_text="صدى نيوز").click()
    assert page.locator("li.hit").count() == 5

    page.goto(base_url + "/?q=حماس&per_page=2")
    with page.expect_navigation():
        page.locator("nav.pages a[rel=next]").click()
    assert page.locator("nav.pages [aria-current=page]").inner_text() == "2"
    assert page.locator("li.hit").count() == 2
    shot(page, "page-2")


@pytest.fixture(scope="module")
def archive_url(archive_index):
    with serving(archive_index, RATE_LIMIT=0) as url:
        yield url


def test_histogram_presets_and_custom_range(page, archive_url):
    page.goto(archive_url + "/?q=الأسواق")
    bars = page.locator(".histogram li a")
    assert bars.count() == 24
    # Time runs left to right on the chart even on an RTL page: January 2021 is leftmost.
    first, last = bars.nth(0).bounding_box(), bars.nth(23).bounding_box()
    assert first["x"] < last["x"]
    assert bars.nth(0).get_attribute("aria-label") == "يناير 2021: مقالة واحدة"
    shot(page, "histogram")
    with page.expect_navigation():
        bars.nth(5).click()
    assert page.locator("li.hit time").all_inner_texts() == ["6 يونيو 2021"]
    assert "from=2021-06-01" in page.url and "to=2021-06-30" in page.url
    shot(page, "histogram-bar")
    with page.expect_navigation():
        page.locator(".presets a", has_text="آخر سنة").click()
    assert page.locator("li.hit").count() == 7  # briefs within a year of the newest article (2023-05-10)
    page.goto(archive_url + "/?q=الأسواق")
    page.fill(".range input[name=from]", "2022-11-01")
    page.fill(".range input[name=to]", "2022-12-31")
    with page.expect_navigation():
        page.locator(".range button").click()
    assert sorted(page.locator("li.hit time").all_inner_texts()) == ["5 نوفمبر 2022", "6 ديسمبر 2022"]


def test_stories_article_page_and_similar_articles(page, archive_url):
    page.goto(archive_url + "/?q=القسام")
    first = page.locator("li.hit").first
    # (story1 is from صحيفة الغد; its copies from صحيفة الغد again and from Al-Riyadh)
    assert first.locator(".others summary").inner_text() == "نشر هذا الخبر مصدر آخر، وأعاد المصدر نفسه نشره مرة أخرى"
    assert not first.locator(".others li").first.is_visible()
    first.locator(".others summary").click()  # expandable, no script needed
    assert first.locator(".others li").count() == 2 and first.locator(".others li").first.is_visible()
    shot(page, "story-expanded")
    # The histogram's bars are as tall as their counts (February 2023: the story and its copies).
    heights = page.eval_on_selector_all(".histogram .bar", "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights[0] > heights[2] > heights[1] == 1  # 3 articles, 1, none (a hairline)
    with page.expect_navigation():
        first.locator("h3 a").click()
    assert "/doc/story1" in page.url
    assert page.locator("article.document mark", has_text="القســـــام").count() >= 1
    assert page.locator(".copies li").count() == 2
    similar = page.locator("#similar li.hit")
    assert similar.count() >= 1
    shot(page, "article")
    title = similar.first.locator("h3 a").inner_text()
    with page.expect_navigation():
        similar.first.locator("h3 a").click()
    assert page.locator("article.document h1").inner_text() == title


def test_did_you_mean_and_autocomplete(page, archive_url):
    page.goto(archive_url + "/?q=الفلسطينبة")
    suggestion = page.locator(".suggestion a")
    assert suggestion.inner_text() == "الفلسطينية"
    with page.expect_navigation():
        suggestion.click()
    assert page.locator("li.hit").count() == 10
    page.goto(archive_url + "/")
    page.locator("#q").press_sequentially("ارتفاع الفلسط", delay=20)
    page.locator("#suggestions option").first.wait_for(state="attached")
    options = page.eval_on_selector_all("#suggestions option", "els => els.map(e => e.value)")
    assert options[0] == "ارتفاع الفلسطينية"


def test_keyboard_only_search(page, archive_url):
    page.goto(archive_url + "/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("القسام")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("li.hit").count() == 2
    labels = page.eval_on_selector_all("input:not([type=hidden])",
                                       "els => els.filter(e => !e.labels.length).map(e => e.name)")
    assert labels == [], "every visible input has a label"


def test_phone_width_and_empty_state(browser, base_url, archive_url):
    context = browser.new_context(locale="ar", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(base_url + "/?q=كورونا")
    assert "لا نتائج" in page.locator(".empty").inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no horizontal scrolling on a phone"
    shot(page, "phone-empty")
    for path, name in (("/?q=الأسواق", "phone-results"), ("/doc/story1", "phone-article")):
        page.goto(archive_url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        shot(page, name)
    context.close()


def test_a_bad_date_is_said_in_arabic_and_the_page_stays(page, archive_url):
    page.goto(archive_url + "/?q=الأسواق")
    page.fill(".range input[name=from]", "2022-13-45")
    with page.expect_navigation():
        page.locator(".range button").click()
    notice = page.locator(".notice.error")
    assert notice.count() == 1 and "ليس تاريخًا صحيحًا" in notice.inner_text()
    assert notice.locator("bdi").inner_text() == "2022-13-45"
    # left to right inside the Arabic sentence (not 45-13-2022), and so is the example date
    assert notice.locator("bdi").evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert page.input_value("#q") == "الأسواق"
    assert page.locator("li.hit").count() == 10 and page.locator("aside.facets").is_visible()
    assert page.get_attribute(".range input[name=from]", "placeholder") == "2018-05-14"  # not mm/dd/yyyy
    shot(page, "error-bad-date")


def test_on_a_phone_the_filters_are_one_bar_above_the_results(browser, archive_url):
    context = browser.new_context(locale="ar", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(archive_url + "/?q=الأسواق&source=Al-Riyadh")
    bar = page.locator("details.filters > summary")
    assert bar.is_visible() and "(1 مرشح)" in bar.inner_text()
    assert bar.bounding_box()["y"] < page.locator("li.hit").first.bounding_box()["y"]
    assert not page.locator(".facet-source").is_visible()  # folded until asked for
    shot(page, "phone-filters-folded")
    bar.click()
    assert page.locator(".facet-source").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "phone-filters-open")
    context.close()
    wide = browser.new_context(locale="ar", viewport={"width": 1200, "height": 900})
    page = wide.new_page()
    page.goto(archive_url + "/?q=الأسواق")
    assert page.locator(".facet-source").is_visible() and not page.locator("details.filters > summary").is_visible()
    wide.close()


# --- the analyst's view: a journalist's path through it ---------------------------------

@pytest.fixture(scope="module")
def analytics_url(tmp_path_factory):
    from conftest import build_small_index
    from test_analytics import analytics_records

    engine = build_small_index(tmp_path_factory.mktemp("analytics-browser"), analytics_records())
    with serving(engine.index_dir, RATE_LIMIT=0) as url:
        yield url


def test_compare_two_stories_over_time_see_what_one_is_about_narrow_and_download(browser, analytics_url):
    import csv
    import io

    from test_analytics import SOURCES, analytics_records, expected_counts

    context = browser.new_context(locale="ar", viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    # 1. Compare the two queries per month, as a share of what was published.
    page.goto(analytics_url + "/trends")
    boxes = page.locator("form.compare input[name=q]")
    boxes.nth(0).fill("مسيرات العودة")
    boxes.nth(1).fill("صفقة القرن")
    page.select_option("form.compare select[name=by]", "month")
    page.check("form.compare input[name=show][value=share]")
    with page.expect_navigation():
        page.click("form.compare button[type=submit]")
    chart = page.locator("svg.chart")
    assert chart.is_visible() and chart.locator("polyline").count() == 2
    assert "حصة التغطية في كل شهر" in page.locator(".chart-figure figcaption").inner_text()
    assert [t.strip() for t in page.locator(".legend li").all_inner_texts()] == ["مسيرات العودة", "صفقة القرن"]
    page.locator("details.table-alternative > summary").click()
    rows = page.locator(".table-alternative tbody tr")
    assert rows.count() == len(expected_counts("march"))
    assert rows.first.locator("th").inner_text() == "مارس 2018"
    shot(page, "trends-share-per-month")
    # 2. What the first query's coverage is about, and who and where it mentions.
    with page.expect_navigation():
        page.locator(".per-query li").first.get_by_text("عمّ تتحدث التغطية ومن تذكر").click()
    assert "مسيرات العودة" in page.locator("h1").inner_text()
    terms = page.locator(".term-list li a")
    assert "الطائرات الورقية" in terms.all_inner_texts()
    place = page.locator(".facet-place li a").filter(has_text="قطاع غزة")
    assert place.count() == 1
    shot(page, "terms-and-entities")
    # 3. Narrow by a place and by one outlet, then download every hit as CSV.
    with page.expect_navigation():
        place.click()
    assert page.locator(".facet-place a.active").inner_text().startswith("قطاع غزة")
    with page.expect_navigation():
        page.locator(".facet-source a").filter(has_text=SOURCES[1]).click()
    shot(page, "narrowed-by-place-and-source")
    with page.expect_download() as download_info:
        page.locator(".tools a.download-csv").click()
    download = download_info.value
    assert download.suggested_filename == "bahth-hits.csv"
    data = open(download.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf")  # so that spreadsheets read Arabic as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    wanted = {r["id"] for r in analytics_records() if r["id"].startswith("march") and r["source"] == SOURCES[1]}
    assert {r["id"] for r in rows} == wanted and {r["source"] for r in rows} == {SOURCES[1]}
    context.close()
