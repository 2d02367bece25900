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
    shot(page, "search-qassam")

    page.fill("#q", "حماس")
    page.keyboard.press("Enter")
    page.wait_for_selector("li.hit")
    assert page.locator("li.hit").count() == 5
    with page.expect_navigation():
        page.locator("aside.facets a", has_text="صدى نيوز").click()
    assert page.locator("li.hit").count() == 2
    assert set(page.locator("li.hit .source").all_inner_texts()) == {"صدى نيوز"}
    shot(page, "facet-source")
    with page.expect_navigation():  # unfilter
        page.locator("aside.facets a.active", has_text="صدى نيوز").click()
    assert page.locator("li.hit").count() == 5
    with page.expect_navigation():
        page.locator("aside.facets a", has_text="2023").click()
    assert page.locator("li.hit time").all_inner_texts() == ["4 يونيو 2023"]

    page.goto(base_url + "/?q=حماس&per_page=2")
    with page.expect_navigation():
        page.locator("nav.pages a[rel=next]").click()
    assert page.locator("nav.pages [aria-current=page]").inner_text() == "2"
    assert page.locator("li.hit").count() == 2
    shot(page, "page-2")


def test_phone_width_and_empty_state(browser, base_url):
    context = browser.new_context(locale="ar", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(base_url + "/?q=كورونا")
    assert "لا نتائج" in page.locator(".empty").inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no horizontal scrolling on a phone"
    shot(page, "phone-empty")
    context.close()
