"""Open a local HTML file in headless Chromium and measure what a reader would see.

A small helper for browser tests (see tests/e2e/test_report_browser.py). It drives Debian's
chromium + chromium-driver through Selenium and never downloads anything: the driver and the
browser are given by path, so Selenium Manager is skipped (SE_OFFLINE is set as well, in case it
were ever reached), and Chromium runs with its background networking off in a fresh profile.

    with Browser() as browser:
        page = browser.open(Path("report.html"), width=390, height=844,
                            selectors={"summary": ".summary"}, screenshot=Path("shot.png"))
        assert not page.horizontal_overflow, page.overflowing

How the checks are captured:
- CSP violations: a `securitypolicyviolation` listener injected with CDP
  `Page.addScriptToEvaluateOnNewDocument`, so it runs when each document is created, before the
  page's own markup (and its CSP meta tag) is parsed. Scripts injected this way are not subject to
  the page's CSP, so the listener works even under `default-src 'none'`. Chromium also logs each
  violation to the console (source "security", level SEVERE); both are collected, and a test
  should look at both (`PageReport.csp_violations` and `PageReport.csp_log`).
- Console errors: the browser log (`goog:loggingPrefs` {"browser": "ALL"}), drained before each
  page load so each report only holds its own page's entries.
- Viewport: CDP `Emulation.setDeviceMetricsOverride` (exact CSS width and height, scale 1).
- Full-page screenshot: CDP `Page.captureScreenshot` with `captureBeyondViewport`, clipped to the
  document's full scroll size (so anything sticking out to the right is in the picture).
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# --disable-background-networking & co.: without them Chromium keeps retrying connections that a
# closed network refuses (component updates, safe browsing, sync, field trials).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--hide-scrollbars",  # screenshots and widths without a scrollbar gutter, as on phones and macOS
)

_LISTENER = r"""
(function () {
  if (window.__browserTestCsp) return;
  var found = [];
  Object.defineProperty(window, '__browserTestCsp', {value: found, enumerable: false});
  document.addEventListener('securitypolicyviolation', function (e) {
    found.push({directive: e.violatedDirective, effective: e.effectiveDirective,
                blocked: String(e.blockedURI || '').slice(0, 200), source: e.sourceFile || '',
                line: e.lineNumber || 0, disposition: e.disposition || '',
                sample: String(e.sample || '').slice(0, 200)});
  }, true);
})();
"""

_MEASURE = r"""
const selectors = arguments[0];
const de = document.documentElement;
const cw = de.clientWidth;
function describe(el) {
  const parts = [];
  for (let e = el; e && e !== document.body && e !== de && parts.length < 6; e = e.parentElement) {
    let s = e.tagName.toLowerCase();
    if (e.id) { parts.unshift(s + '#' + e.id); break; }
    if (e.classList.length) s += '.' + Array.from(e.classList).join('.');
    const same = e.parentElement ? Array.from(e.parentElement.children).filter(c => c.tagName === e.tagName) : [];
    if (same.length > 1) s += ':nth-of-type(' + (same.indexOf(e) + 1) + ')';
    parts.unshift(s);
  }
  return parts.join(' > ');
}
function clippedByScroller(el) {
  for (let a = el.parentElement; a && a !== document.body && a !== de; a = a.parentElement) {
    const ox = getComputedStyle(a).overflowX;
    if (ox !== 'visible') return a.getBoundingClientRect().right <= cw + 1;
  }
  return false;
}
// Elements whose right edge is past the viewport and which stick out further than their parent:
// where an overflow starts, not every ancestor it drags along.
const overflowing = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.right <= cw + 1 || clippedByScroller(el)) continue;
  const p = el.parentElement ? el.parentElement.getBoundingClientRect() : null;
  if (p && p.right >= r.right - 0.5) continue;
  const text = (el.innerText || el.getAttribute('alt') || '').replace(/\s+/g, ' ').trim();
  overflowing.push({selector: describe(el), tag: el.tagName.toLowerCase(), left: r.left, right: r.right,
                    width: r.width, overflow_px: r.right - cw, text: text.slice(0, 80)});
}
overflowing.sort((a, b) => b.overflow_px - a.overflow_px);
// Elements wider than their parent's content box (a table sticking out of its card), even when
// the page itself still fits: the first sign of a layout that breaks a little narrower.
const escaping = [];
for (const el of document.body.querySelectorAll('*')) {
  const p = el.parentElement;
  if (!p || p === document.body || clippedByScroller(el)) continue;
  const ps = getComputedStyle(p);
  if (ps.display === 'inline' || ps.overflowX !== 'visible') continue;
  const r = el.getBoundingClientRect(), pr = p.getBoundingClientRect();
  if (r.width === 0) continue;
  const inner = pr.right - parseFloat(ps.paddingRight) - parseFloat(ps.borderRightWidth);
  if (r.right <= inner + 1) continue;
  escaping.push({selector: describe(el), parent: describe(p), right: r.right, width: r.width,
                 parent_content_width: inner - (pr.left + parseFloat(ps.paddingLeft) + parseFloat(ps.borderLeftWidth)),
                 by_px: r.right - inner});
}
escaping.sort((a, b) => b.by_px - a.by_px);
const images = Array.from(document.images).map((img, i) => ({
  index: i, alt: img.alt || '', src: (img.currentSrc || img.src || '').slice(0, 60),
  complete: img.complete, natural_width: img.naturalWidth, natural_height: img.naturalHeight,
  rendered_width: img.getBoundingClientRect().width, rendered_height: img.getBoundingClientRect().height}));
const boxes = {};
for (const [name, sel] of Object.entries(selectors)) {
  const el = document.querySelector(sel);
  if (!el) { boxes[name] = {selector: sel, found: false}; continue; }
  const r = el.getBoundingClientRect();
  boxes[name] = {selector: sel, found: true, top: r.top + window.scrollY, bottom: r.bottom + window.scrollY,
                 left: r.left, right: r.right, height: r.height,
                 above_fold: r.top + window.scrollY < window.innerHeight,
                 text: (el.innerText || '').replace(/\s+/g, ' ').trim().slice(0, 120)};
}
return {
  url: location.href, title: document.title, ready_state: document.readyState,
  inner_width: window.innerWidth, inner_height: window.innerHeight, client_width: cw,
  scroll_width: Math.max(de.scrollWidth, document.body ? document.body.scrollWidth : 0),
  scroll_height: Math.max(de.scrollHeight, document.body ? document.body.scrollHeight : 0),
  device_pixel_ratio: window.devicePixelRatio,
  overflowing: overflowing.slice(0, 15), escaping: escaping.slice(0, 15), images: images, boxes: boxes,
  csp_violations: (window.__browserTestCsp || []).slice(),
};
"""

# Resolves once every image has finished (decoded or failed) and fonts are ready; never rejects.
_SETTLE = r"""
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images).map(i => i.decode().catch(() => null));
Promise.all([...imgs, document.fonts ? document.fonts.ready : null])
  .then(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))));
"""


def unavailable_reason(chromium: Path = CHROMIUM, chromedriver: Path = CHROMEDRIVER) -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if os.environ.get("NL2SQL_SKIP_BROWSER"):
        return "NL2SQL_SKIP_BROWSER is set"
    missing = [str(p) for p in (chromium, chromedriver) if not (p.is_file() and os.access(p, os.X_OK))]
    if missing:
        return f"{' and '.join(missing)} missing (apt-get install -y chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


@dataclass
class PageReport:
    """What one page looked like at one viewport size."""

    path: Path
    width: int
    height: int
    title: str
    inner_width: int
    inner_height: int
    client_width: int
    scroll_width: int
    scroll_height: int
    overflowing: list[dict[str, Any]]  # where content goes past the viewport's right edge
    escaping: list[dict[str, Any]]  # elements wider than their parent's content box
    images: list[dict[str, Any]]
    boxes: dict[str, dict[str, Any]]
    csp_violations: list[dict[str, Any]]  # from the securitypolicyviolation listener
    console: list[dict[str, Any]]  # every browser log entry of this page load
    screenshot: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def viewport_width(self) -> int:
        """The narrower of innerWidth and the layout viewport (clientWidth).

        innerWidth alone can hide an overflow: with classic scrollbars it includes the scrollbar
        gutter, and with mobile=True Chromium zooms a too-wide page out until innerWidth equals
        its scrollWidth.
        """
        return min(self.inner_width, self.client_width)

    @property
    def overflow_px(self) -> int:
        """How far the document is wider than the viewport (0 when it fits)."""
        return max(0, self.scroll_width - self.viewport_width)

    @property
    def horizontal_overflow(self) -> bool:
        return self.scroll_width > self.viewport_width + 1

    @property
    def broken_images(self) -> list[dict[str, Any]]:
        return [i for i in self.images if not i["complete"] or i["natural_width"] <= 0]

    @property
    def csp_log(self) -> list[dict[str, Any]]:
        """CSP violations as Chromium's console reports them."""
        return [e for e in self.console if e.get("source") == "security"]

    @property
    def console_errors(self) -> list[dict[str, Any]]:
        """Console entries at error level (SEVERE): script errors, failed loads, CSP reports."""
        return [e for e in self.console if e.get("level") == "SEVERE"]

    def above_fold(self, name: str) -> bool:
        box = self.boxes.get(name, {})
        return bool(box.get("found")) and bool(box.get("above_fold"))

    def summary(self) -> str:
        """One readable paragraph for test output."""
        lines = [f"{self.path.name} at {self.width}x{self.height}: scrollWidth {self.scroll_width} vs innerWidth "
                 f"{self.inner_width} (clientWidth {self.client_width}): overflow {self.overflow_px} px; "
                 f"page height {self.scroll_height} px ({self.scroll_height / self.inner_height:.1f} screens), "
                 f"{len(self.images)} images ({len(self.broken_images)} broken), {len(self.csp_violations)} CSP "
                 f"violations, {len(self.console_errors)} console errors"]
        for name, box in self.boxes.items():
            if box.get("found"):
                lines.append(f"  {name} ({box['selector']}): top {box['top']:.0f} px of a {self.inner_height} px "
                             f"fold -> {'above' if box['above_fold'] else 'BELOW'} the fold")
            else:
                lines.append(f"  {name} ({box['selector']}): not found")
        for o in self.overflowing[:5]:
            lines.append(f"  overflows by {o['overflow_px']:.0f} px: {o['selector']} (width {o['width']:.0f}, "
                         f"right edge {o['right']:.0f}) {o['text'][:60]!r}")
        for e in self.escaping[:5]:
            lines.append(f"  {e['by_px']:.0f} px wider than its parent's content box "
                         f"({e['parent_content_width']:.0f} px): {e['selector']} (width {e['width']:.0f})")
        if self.screenshot:
            lines.append(f"  screenshot: {self.screenshot}")
        return "\n".join(lines)


class Browser:
    """One headless Chromium, reused for several pages. Use as a context manager."""

    def __init__(self, chromium: Path = CHROMIUM, chromedriver: Path = CHROMEDRIVER,
                 extra_flags: tuple[str, ...] = ()) -> None:
        self.chromium = chromium
        self.chromedriver = chromedriver
        self.extra_flags = extra_flags
        self.driver: Any = None
        self.startup_s = 0.0
        self._profile: str | None = None

    def __enter__(self) -> Browser:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager, if ever reached, must not download
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        started = time.perf_counter()
        self._profile = tempfile.mkdtemp(prefix="browser-test-profile-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(self.chromium)
        for flag in (*CHROMIUM_FLAGS, *self.extra_flags, f"--user-data-dir={self._profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # An explicit driver path: Selenium skips Selenium Manager entirely.
        service = Service(executable_path=str(self.chromedriver))
        try:
            self.driver = webdriver.Chrome(service=service, options=options)
        except Exception:
            shutil.rmtree(self._profile, ignore_errors=True)
            raise
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(30)
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _LISTENER})
        self.startup_s = time.perf_counter() - started

    def close(self) -> None:
        if self.driver is not None:
            try:
                self.driver.quit()
            finally:
                self.driver = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def open(self, path: Path, width: int, height: int = 800, *, mobile: bool = False,
             selectors: dict[str, str] | None = None, screenshot: Path | None = None) -> PageReport:
        """Load PATH at a WIDTH x HEIGHT CSS-pixel viewport and measure it.

        selectors: name -> CSS selector of elements whose position to report (first match).
        mobile: emulate a phone (the page's meta viewport applies, no scrollbars).
        screenshot: where to save a full-page PNG.
        """
        d = self.driver
        assert d is not None, "Browser.start() first"
        timings: dict[str, float] = {}
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        d.get_log("browser")  # drop what earlier pages logged
        t = time.perf_counter()
        d.get(Path(path).resolve().as_uri())
        d.execute_async_script(_SETTLE)
        timings["load_s"] = time.perf_counter() - t
        t = time.perf_counter()
        # violation events are queued as tasks: give them a turn before reading them
        d.execute_async_script("const done = arguments[0]; setTimeout(() => done(true), 50);")
        m = d.execute_script(_MEASURE, selectors or {})
        console = d.get_log("browser")
        timings["measure_s"] = time.perf_counter() - t
        shot = None
        if screenshot is not None:
            t = time.perf_counter()
            shot = self._screenshot(screenshot, width, m["scroll_width"], m["scroll_height"])
            timings["screenshot_s"] = time.perf_counter() - t
        return PageReport(path=Path(path), width=width, height=height, title=m["title"],
                          inner_width=m["inner_width"], inner_height=m["inner_height"],
                          client_width=m["client_width"], scroll_width=m["scroll_width"],
                          scroll_height=m["scroll_height"], overflowing=m["overflowing"],
                          escaping=m["escaping"], images=m["images"],
                          boxes=m["boxes"], csp_violations=m["csp_violations"], console=console,
                          screenshot=shot, timings=timings)

    def _screenshot(self, out: Path, width: int, scroll_width: int, scroll_height: int) -> Path:
        clip = {"x": 0, "y": 0, "width": max(width, scroll_width), "height": scroll_height, "scale": 1}
        data = self.driver.execute_cdp_cmd("Page.captureScreenshot",
                                           {"format": "png", "captureBeyondViewport": True, "clip": clip})
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data["data"]))
        return out
