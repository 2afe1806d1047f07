"""Regenerate the player's screenshots in docs/img (first, middle and last step of apple-and-orange).

    python docs/make_player_screenshots.py          # needs Playwright and Debian's chromium
"""

import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from revgraph import demos
from revgraph.backends.html import explain, walkthrough

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main() -> None:
    out = Path(__file__).parent / "img"
    step, _, _ = demos.run("apple_orange")
    n = len(walkthrough(step)["steps"])
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_path = explain(step, Path(tmp) / "backprop.html", lang="en")
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(page_path.as_uri())
        for name, at in [("first", 1), ("middle", (n + 1) // 2), ("last", n)]:
            page.evaluate(f"() => window.rgPlayer.go({at - 1})")
            page.screenshot(path=str(out / f"player-{name}.png"), full_page=True)
            print(out / f"player-{name}.png")
        browser.close()


if __name__ == "__main__":
    main()
