"""Drives Debian's headless Chromium for the dashboard's browser tests (test_browser_dashboard.py)
with Debian's own packages only: python3-selenium talking to chromium-driver (/usr/bin/chromedriver).

Page wraps one browser tab with the few actions the scenarios need. Every wait is explicit and
bounded (WebDriverWait polling a condition evaluated in the page), never a sleep: find() waits for an
element matching a CSS selector, optionally containing a text (case-insensitive, whitespace folded,
a substring of the element's text), to be visible or merely attached; gone() waits for none to be left;
until() waits for a script to return something truthy. Uncaught script errors of every page are
collected from Chromium's console log (source "javascript": thrown errors and unhandled rejections).
Screenshots are full-page PNGs taken through the DevTools protocol.
Chromium and chromedriver get a private TMPDIR, removed by close(): left to themselves they leave
org.chromium.Chromium.* directories in /tmp.
"""
import base64
import os
import shutil
import sys
import tempfile

from harness import free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
WIDTH, HEIGHT = 1280, 820
DEFAULT_TIMEOUT = 8

# Helpers prepended to every condition script: norm folds whitespace and case; visible means a
# non-empty box and not visibility:hidden; match finds the first element for
# (selector, text, state) or null.
PRELUDE = """
const norm = (s) => String(s).replace(/\\s+/g, ' ').trim().toLowerCase();
const visible = (e) => { const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
const match = (sel, text, state) => {
  for (const e of document.querySelectorAll(sel)) {
    if (text !== null && !norm(e.textContent).includes(norm(text))) continue;
    if (state === 'visible' && !visible(e)) continue;
    return e;
  }
  return null;
};
"""


def missing():
    """None when Chromium, chromedriver and python3-selenium are all there; otherwise what is not."""
    gone = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    try:
        import selenium  # noqa: F401  (Debian's python3-selenium, in /usr/lib/python3/dist-packages)
    except ImportError:
        if os.path.isdir("/usr/lib/python3/dist-packages/selenium"):
            gone.append("selenium for %s (python3-selenium serves Debian's /usr/bin/python3)" % sys.executable)
        else:
            gone.append("the selenium Python module (python3-selenium)")
    return ", ".join(gone) or None


class Page:
    """One headless Chromium tab through chromedriver; close() ends both processes."""

    def __init__(self, shots_dir):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in FLAGS + ["--window-size=%d,%d" % (WIDTH, HEIGHT)]:
            opts.add_argument(flag)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # A confirm() left open must stay open for accept_dialog(), not be dismissed by the next command.
        opts.set_capability("unhandledPromptBehavior", "ignore")
        self.shots_dir = shots_dir
        self.errors = []
        self.tmp = tempfile.mkdtemp(prefix="ek-browser-")
        env = dict(os.environ, TMPDIR=self.tmp)
        try:
            self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER, port=free_port(), env=env),
                                           options=opts)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(10)
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})

    def close(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- waiting --
    def until(self, script, *args, timeout=DEFAULT_TIMEOUT, what=None):
        """Evaluates script (a function body; PRELUDE's helpers in scope, arguments in `arguments`)
        until it returns something truthy, and returns that; fails after timeout seconds."""
        from selenium.common.exceptions import (JavascriptException, StaleElementReferenceException,
                                                TimeoutException)
        from selenium.webdriver.support.ui import WebDriverWait
        body = PRELUDE + script
        last = []

        def check(d):
            try:
                return d.execute_script(body, *args)
            except (JavascriptException, StaleElementReferenceException) as e:  # the page is redrawing
                last[:] = [e]
                return False
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(check)
        except TimeoutException:
            raise AssertionError("timed out after %ss waiting for %s%s" % (
                timeout, what or script.strip(), "; last error: %s" % last[0].msg if last else "")) from None

    def find(self, sel, text=None, state="visible", timeout=DEFAULT_TIMEOUT):
        """The first element matching sel (and containing text), once there is one."""
        desc = sel + (' containing "%s"' % text if text is not None else "") + " (%s)" % state
        return self.until("return match(arguments[0], arguments[1], arguments[2]);", sel, text, state,
                          timeout=timeout, what=desc)

    def gone(self, sel, text=None, timeout=DEFAULT_TIMEOUT):
        """Waits until no element matches sel (and contains text)."""
        self.until("return match(arguments[0], arguments[1], 'attached') === null;", sel, text,
                   timeout=timeout, what="no more %s" % sel)

    def text(self, sel):
        return self.find(sel).get_attribute("textContent")

    def hash(self):
        return self.driver.execute_script("return location.hash;")

    # -- acting --
    def go(self, url, page=None):
        """Opens url; with page, waits until the router has rendered that page (main[data-page] h1)."""
        self.driver.get(url)
        self.find("main[data-page=%s] h1" % page if page else "main h1")

    def click(self, sel, text=None, timeout=DEFAULT_TIMEOUT):
        """Clicks the first visible match, retrying while something (a notice) covers it."""
        from selenium.common.exceptions import (ElementClickInterceptedException,
                                                ElementNotInteractableException,
                                                StaleElementReferenceException)

        def attempt():
            try:
                self.find(sel, text, timeout=timeout).click()
                return True
            except (ElementClickInterceptedException, ElementNotInteractableException,
                    StaleElementReferenceException):
                return False
        self._retry(attempt, timeout, "a click on %s" % sel)

    def fill(self, sel, value, timeout=DEFAULT_TIMEOUT):
        """Replaces the content of an input or textarea by typing value (newlines included)."""
        el = self.find(sel, timeout=timeout)
        el.clear()
        el.send_keys(value)
        got = el.get_attribute("value")
        if got != value:
            raise AssertionError("%s holds %r after typing %r" % (sel, got, value))

    def accept_dialog(self, timeout=DEFAULT_TIMEOUT):
        """Accepts the confirm() the last action opened."""
        from selenium.webdriver.support import expected_conditions as EC
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(self.driver, timeout).until(EC.alert_is_present()).accept()

    def _retry(self, fn, timeout, what):
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(lambda d: fn())
        except TimeoutException:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what)) from None

    # -- records --
    def collect_errors(self):
        """Moves the uncaught script errors logged since the last call into self.errors."""
        for entry in self.driver.get_log("browser"):
            if entry.get("source") == "javascript":
                self.errors.append(entry["message"])
        return self.errors

    def shot(self, name):
        """A full-page screenshot, without the corner notices, into shots_dir/name.png."""
        os.makedirs(self.shots_dir, exist_ok=True)
        self.driver.execute_script("document.getElementById('toast').replaceChildren();")
        # Two animation frames: the last redraw of a chart is on screen before the picture.
        self.driver.execute_async_script(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));")
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        png = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": max(size["width"], WIDTH), "height": size["height"], "scale": 1}})
        with open(os.path.join(self.shots_dir, name + ".png"), "wb") as f:
            f.write(base64.b64decode(png["data"]))
