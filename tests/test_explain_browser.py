"""The backward-pass player in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright.

Skipped, saying why, only where no Chromium or no Playwright is installed; CI installs both. The page is a
local file and every request other than file:// is refused and counted (there must be none).
"""

import shutil

import pytest

from revgraph import demos
from revgraph.backends.html import explain, walkthrough

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on PATH (apt-get install -y chromium)")
# As the machine's own probe starts it: no sandbox as root, and no background connections to the closed network.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
VISIBLE_GRADIENTS = """() => Array.from(document.querySelectorAll('g.edge.grad:not(.pending) text')).map(t => t.textContent)"""
CURRENT = """() => { const n = document.querySelector('g.node.current'); return n ? n.id : null; }"""


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def apple_orange(tmp_path_factory):
    step, _, _ = demos.run("apple_orange")
    path = tmp_path_factory.mktemp("player") / "backprop.html"
    explain(step, path, lang="en")
    return path, walkthrough(step)["steps"]


def _open(browser, path, **context):
    ctx = browser.new_context(viewport={"width": 1300, "height": 1000}, **context)
    page = ctx.new_page()
    requests, errors = [], []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
               else (requests.append(route.request.url), route.abort()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return page, requests, errors


def test_stepping_through_apple_orange(browser, apple_orange, tmp_path):
    path, steps = apple_orange
    page, requests, errors = _open(browser, path)
    assert page.evaluate(CURRENT) is None and page.evaluate(VISIBLE_GRADIENTS) == []
    shots = [page.screenshot(path=str(tmp_path / "start.png"), full_page=True)]
    expected_visible: list = []
    for i, step in enumerate(steps):
        page.keyboard.press("ArrowRight")
        assert page.evaluate(CURRENT) == step["node"], f"step {i + 1}: highlighted node"
        expected_visible += [x["text"] for x in step["sends"]]
        assert sorted(page.evaluate(VISIBLE_GRADIENTS)) == sorted(expected_visible), f"step {i + 1}: gradients"
        assert f"Step {i + 1} of {len(steps)}" in page.inner_text("#counter")
        for line in step["lines"]:
            assert "now" in page.get_attribute(f'.code li[data-line="{line}"]', "class")
        shots.append(page.screenshot(full_page=True))
    final = page.evaluate(VISIBLE_GRADIENTS)
    assert {"2.2", "110", "3.3", "165", "650"} <= set(final)
    assert page.is_disabled("#next") and "every input has its gradient" in page.inner_text("#step")
    assert all(len(s) > 10_000 for s in shots) and shots[0] != shots[-1] != shots[len(shots) // 2]
    assert requests == [] and errors == []


def test_buttons_keys_and_focus(browser, apple_orange):
    path, steps = apple_orange
    page, _, errors = _open(browser, path)
    page.click("#next")
    page.click("#next")
    assert page.evaluate(CURRENT) == steps[1]["node"]
    page.click("#prev")
    assert page.evaluate(CURRENT) == steps[0]["node"]
    page.click("#reset")
    assert page.evaluate(CURRENT) is None and page.evaluate(VISIBLE_GRADIENTS) == []
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(CURRENT) == steps[0]["node"]
    page.keyboard.press("Home")
    assert page.evaluate(CURRENT) is None
    # keyboard focus is visible: Tab reaches a button, which draws an outline
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.tagName, getComputedStyle(document.activeElement).outlineStyle]")
    assert focused[0] == "BUTTON" and focused[1] != "none"
    # play runs to the end by itself
    page.click("#play")
    page.wait_for_function(f"() => window.rgPlayer.at === {len(steps) - 1}", timeout=20_000)
    assert errors == []


def test_a_tensor_value_opens_in_full_on_click(browser, tmp_path):
    step, _, _ = demos.run("mlp")
    path = explain(step, tmp_path / "mlp.html", lang="en")
    page, requests, errors = _open(browser, path)
    n = len(walkthrough(step)["steps"])
    for _ in range(n):
        page.keyboard.press("ArrowRight")
    button = page.locator("#step button.value").first
    assert page.locator("#step pre.full").first.is_hidden()
    button.click()
    assert page.locator("#step pre.full").first.is_visible()
    assert button.get_attribute("aria-expanded") == "true"
    assert requests == [] and errors == []


def test_language_follows_the_browser_and_the_switch(browser, apple_orange, tmp_path):
    step, _, _ = demos.run("apple_orange")
    path = explain(step, tmp_path / "auto.html")          # no lang: the reader's browser decides
    page, _, errors = _open(browser, path, locale="ko-KR")
    assert page.evaluate("() => document.documentElement.lang") == "ko"
    assert page.inner_text("#next") == "다음"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert "곱셈 노드" in page.inner_text("#step")
    page.select_option("#lang", "en")
    assert page.inner_text("#next") == "Next" and "Multiply swaps its inputs" in page.inner_text("#step")
    page_en, _, _ = _open(browser, path, locale="en-US")
    assert page_en.inner_text("#next") == "Next"
    assert errors == []
