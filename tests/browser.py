"""Open a local HTML page in a real headless browser (Debian's chromium, driven by Playwright) and tell
what happened: console errors, uncaught page errors, network requests, DOM query results, a screenshot.

Playwright is used with the system chromium (executable_path): `playwright install` downloads a browser
build, which this project cannot fetch. One Browser per test module keeps the tests fast.

Regenerate the README's screenshot of the report:

    python tests/browser.py --fixture rich --screenshot docs/report.png
    python tests/browser.py --screenshot out.png OUT/_runs/<run_id>.html
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import sys
import tempfile
from dataclasses import dataclass, field

VIEWPORT = {"width": 1280, "height": 900}
BROWSER_NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    """The chromium binary: $CHROMIUM if set, else the first of BROWSER_NAMES on PATH; None if absent."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured if os.path.exists(configured) else None
    return next((path for path in map(shutil.which, BROWSER_NAMES) if path), None)


def missing_browser_reason() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if chromium_path() is None:
        return "chromium not installed (apt-get install chromium; `make test-all` does it when root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright not installed (pip install -e '.[slow]')"
    return None


@dataclass
class Rendered:
    title: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every request but the page's own file
    failed_requests: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)  # name -> result of a JavaScript expression on the page
    screenshot: pathlib.Path | None = None


class Browser:
    """One headless chromium; render() opens each page in a fresh context (no state shared)."""

    def __init__(self, executable: str | None = None):
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=executable or chromium_path(),
            args=["--no-sandbox"],  # runs as root on CI machines
        )

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def render(self, html_path, expressions: dict[str, str] | None = None, screenshot=None,
               bypass_csp: bool = False) -> Rendered:
        """Load file://html_path, evaluate `expressions` ({name: JS expression}), optionally save a
        full-page PNG. bypass_csp ignores the page's Content-Security-Policy, to test that escaping
        alone keeps injected markup inert."""
        url = pathlib.Path(html_path).resolve().as_uri()
        context = self._browser.new_context(viewport=VIEWPORT, bypass_csp=bypass_csp, java_script_enabled=True)
        page = context.new_page()
        rendered = Rendered(title="")
        page.on("console", lambda m: rendered.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: rendered.page_errors.append(str(error)))
        page.on("request", lambda r: rendered.requests.append(r.url) if r.url != url else None)
        page.on("requestfailed", lambda r: rendered.failed_requests.append(f"{r.url}: {r.failure}"))
        try:
            page.goto(url, wait_until="load")
            rendered.title = page.title()
            rendered.values = {name: page.evaluate(js) for name, js in (expressions or {}).items()}
            if screenshot is not None:
                rendered.screenshot = pathlib.Path(screenshot)
                page.screenshot(path=str(rendered.screenshot), full_page=True)
        finally:
            context.close()
        return rendered


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Render an HTML report in headless chromium and screenshot it.")
    parser.add_argument("html", nargs="?", help="the HTML file (or use --fixture)")
    parser.add_argument("--fixture", help="render a data dict from tests/report_fixtures.py instead (e.g. rich)")
    parser.add_argument("--screenshot", required=True, help="where to write the full-page PNG")
    args = parser.parse_args(argv)
    reason = missing_browser_reason()
    if reason:
        parser.error(reason)
    with tempfile.TemporaryDirectory() as tmp:
        html_path = args.html
        if args.fixture:
            import report_fixtures

            from pipelines.report import write_report

            html_path = os.path.join(tmp, "report.html")
            write_report(html_path, getattr(report_fixtures, args.fixture)())
        if not html_path:
            parser.error("give an HTML file or --fixture")
        with Browser() as browser:
            rendered = browser.render(html_path, screenshot=args.screenshot)
    problems = rendered.console_errors + rendered.page_errors + rendered.requests
    print(f"{args.screenshot}: {rendered.title!r}; problems: {problems or 'none'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
