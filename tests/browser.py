"""A real headless Chromium for tests of the Snakemake report: the rendered page's text, what the
first screen shows, the start page's layout, what the report shows after a reader's clicks, a
screenshot, and the results that Snakemake embedded in report.html."""

import base64
import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image


TIMEOUT_S = 60
WINDOW = "1400,1000"
# Offline and as root (CI runs as root): no sandbox, no GPU, and none of the background connections
# that a closed network refuses; a fresh profile each time so no earlier run leaks in.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# Virtual time lets the page's timers (the report's Vega rule graph, the first-screen probe) run
# before Chromium dumps or shoots the page, without waiting as long in wall-clock time.
SETTLE = "--virtual-time-budget=5000"


def chromium_path(environ=os.environ):
    """The chromium on PATH (Debian's package). Without it, tests skip on a developer's machine but
    fail in CI (CI=true), which installs it (.ci/run)."""
    path = shutil.which("chromium")
    if path:
        return path
    if environ.get("CI") == "true":
        pytest.fail("chromium is not on PATH, and CI must run the browser tests (.ci/run installs it)")
    pytest.skip("chromium is not on PATH (Debian: apt-get install chromium)")


def run_chromium(html_path, *arguments, chromium=None):
    """Chromium's stdout for file://html_path with `arguments`; a RuntimeError if it fails or runs
    past TIMEOUT_S (then its whole process group is killed, so no browser outlives the test)."""
    chromium = chromium or chromium_path()
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        command = [chromium, *FLAGS, f"--user-data-dir={profile}", *arguments, url]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise RuntimeError(f"chromium ran past {TIMEOUT_S} s on {url}") from None
    if process.returncode != 0:
        raise RuntimeError(f"chromium exited {process.returncode} on {url}: {stderr[-2000:]}")
    return stdout


class _TextParser(HTMLParser):
    """The text a reader sees: no scripts or styles, a line break around each block element."""

    HIDDEN = {"script", "style", "template", "noscript", "head"}
    BLOCKS = {
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "tr",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "br",
        "section",
        "header",
        "footer",
        "nav",
        "dt",
        "dd",
        "pre",
        "blockquote",
    }

    def __init__(self):
        super().__init__()
        self.hidden = 0
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        self.parts.append(self.separator(tag))

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        self.parts.append(self.separator(tag))

    def separator(self, tag):
        return "\n" if tag in self.BLOCKS else " " if tag in ("td", "th") else ""

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)

    def text(self):
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(line for line in lines if line)


def visible_text(html):
    """The text of an HTML document without its scripts and styles, whitespace collapsed."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return parser.text()


def rendered_text(html_path, chromium=None):
    """The text of the page after Chromium ran its scripts (--dump-dom of the live DOM)."""
    return visible_text(run_chromium(html_path, SETTLE, "--dump-dom", chromium=chromium))


def probed(html_path, probe, result_id, page=None, settle=SETTLE, chromium=None):
    """The JSON value that `probe`, a <script> appended to a copy of the page (its text: `page`, else
    read from html_path), writes into <pre id=result_id> of the page once it has seen what it looks for;
    a RuntimeError if it writes nothing."""
    page = Path(html_path).read_text(encoding="utf-8") if page is None else page
    end = page.rfind("</body>")
    end = len(page) if end < 0 else end
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "page.html"
        copy.write_text(page[:end] + probe + page[end:], encoding="utf-8")
        dom = run_chromium(copy, settle, f"--window-size={WINDOW}", "--dump-dom", chromium=chromium)
    found = re.search(rf'<pre id="{re.escape(result_id)}">(.*?)</pre>', dom, re.DOTALL)
    if not found:
        raise RuntimeError(f"{html_path}: the page never wrote <pre id={result_id!r}>")
    return json.loads(html.unescape(found.group(1)))


# Once the app has rendered, the text nodes whose boxes meet the viewport, as a JSON list in
# <pre id="first-screen">.
FIRST_SCREEN_PROBE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const seen = [], range = document.createRange();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect(), style = getComputedStyle(node.parentElement);
    if (box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight &&
        box.right > 0 && box.left < innerWidth && style.visibility !== "hidden") {
      seen.push(node.textContent);
    }
  }
  const out = document.createElement("pre");
  out.id = "first-screen";
  out.textContent = JSON.stringify(seen);
  document.body.appendChild(out);
}, 1000));
</script>"""


def first_screen_text(html_path, chromium=None):
    """The text a reader sees on opening the page in a WINDOW-sized window, before scrolling."""
    return " ".join(" ".join(probed(html_path, FIRST_SCREEN_PROBE, "first-screen", chromium=chromium)).split())


# Once the app has rendered, in CSS pixels: the window's width, the start page's text column and
# each of its tables, as JSON in <pre id="layout">.
LAYOUT_PROBE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const prose = document.querySelector("#app .prose"), width = box => Math.round(box.getBoundingClientRect().width);
  const out = document.createElement("pre");
  out.id = "layout";
  out.textContent = JSON.stringify({window: innerWidth, text: prose ? width(prose) : null,
    tables: prose ? [...prose.querySelectorAll("table")].map(width) : []});
  document.body.appendChild(out);
}, 1000));
</script>"""


def start_page_layout(html_path, chromium=None):
    """{"window", "text", "tables"}: the widths of the window, the start page's text and its tables."""
    return probed(html_path, LAYOUT_PROBE, "layout", chromium=chromium)


# Clicks as a reader does, one step every STEP ms once the app has rendered: a step {"menu": text}
# clicks the side bar's entry of that text, {"view": true} the first result's view button there,
# {"css": selector} the first element of the page that matches. Then, once the report shows the
# item `expect` (or after WAIT ms), writes <pre id="followed"> {"shown": the item the report shows,
# its path in `results`, "title": the first heading of that item's HTML, "sidebar": the side bar's
# text}. The report keeps each item as a data: URL in `results`; the shown one is an iframe's src
# (a page) or an img's src (a figure) in the content area.
FOLLOW_SETTLE = "--virtual-time-budget=15000"  # the steps and the wait fit in it, with room to spare
FOLLOW_PROBE = """<script>
window.addEventListener("load", () => setTimeout(async () => {
  const STEPS = %(steps)s, EXPECT = %(expect)s, STEP = 500, WAIT = 5000;
  const pause = ms => new Promise(done => setTimeout(done, ms));
  const nav = () => document.querySelector("#app nav");
  const click = step => {
    const target = step.menu !== undefined
      ? [...nav().querySelectorAll("a")].find(link => link.textContent.trim() === step.menu)
      : step.view ? nav().querySelector("table tbody tr a[type=button]") : document.querySelector(step.css);
    if (!target) throw new Error("nothing to click for " + JSON.stringify(step));
    target.click();
  };
  const source = () => {
    const view = document.querySelector("#app iframe") || document.querySelector("#app .p-3 > img");
    return view ? view.getAttribute("src") : null;
  };
  const shown = () => Object.keys(results).find(path => results[path].data_uri === source()) || null;
  const title = () => {
    const uri = source();
    if (!uri || !uri.startsWith("data:text/html")) return null;
    const bytes = Uint8Array.from(atob(uri.split(",")[1]), c => c.charCodeAt(0));
    const page = new DOMParser().parseFromString(new TextDecoder().decode(bytes), "text/html");
    const heading = page.querySelector("h1, h2");
    return heading ? heading.textContent.trim() : null;
  };
  let error = null;
  try {
    for (const step of STEPS) { click(step); await pause(STEP); }
    for (let waited = 0; shown() !== EXPECT && waited < WAIT; waited += 100) await pause(100);
  } catch (failure) { error = String(failure); }
  const out = document.createElement("pre");
  out.id = "followed";
  out.textContent = JSON.stringify({shown: shown(), title: title(), sidebar: nav().innerText, error});
  document.body.appendChild(out);
}, 1000));
</script>"""


def followed(html_path, steps, expect, page=None, chromium=None):
    """What the report shows after the clicks of `steps` (see FOLLOW_PROBE), waiting for item `expect`:
    {"shown", "title", "sidebar", "error"}."""
    probe = FOLLOW_PROBE % {"steps": json.dumps(steps), "expect": json.dumps(expect)}
    return probed(html_path, probe, "followed", page=page, settle=FOLLOW_SETTLE, chromium=chromium)


def with_item_script(html_path, item, script):
    """The text of report.html with `script` added to the end of item `item` (an HTML page that the report
    keeps as a data: URL), so that it runs inside the item, where a probe in the report cannot reach."""
    page = Path(html_path).read_text(encoding="utf-8")
    uri = report_results(html_path)[item]["data_uri"]
    if page.count(uri) != 1:
        raise ValueError(f"{html_path}: the data URL of {item} is not in the page exactly once")
    head, data = uri.split(",", 1)
    item_html = base64.b64decode(data).decode("utf-8").replace("</body>", f"{script}</body>", 1)
    return page.replace(uri, f"{head},{base64.b64encode(item_html.encode('utf-8')).decode('ascii')}")


def screenshot(html_path, png_path, chromium=None):
    """A WINDOW-sized PNG of the rendered page at png_path; returns png_path."""
    png_path = Path(png_path).resolve()
    png_path.unlink(missing_ok=True)
    run_chromium(html_path, SETTLE, f"--window-size={WINDOW}", f"--screenshot={png_path}", chromium=chromium)
    if not png_path.is_file():
        raise RuntimeError(f"chromium wrote no screenshot to {png_path}")
    return png_path


def is_blank(png_path, share=0.99):
    """Whether a picture is (nearly) one colour: more than `share` of its pixels equal to the most
    common one. A page that failed to render is a white sheet; a rendered report is not."""
    pixels = np.round(image.imread(png_path) * 255).astype(np.int64)  # PNG: floats in [0, 1]
    pixels = pixels.reshape(-1, pixels.shape[-1]) if pixels.ndim == 3 else pixels.reshape(-1, 1)
    colours = pixels @ (256 ** np.arange(pixels.shape[1]))  # one integer per colour
    return np.unique(colours, return_counts=True)[1].max() > share * len(colours)


def text_lines(png_path, dark=0.45):
    """Where a picture shows lines of dark text on a light page: the top of each band of pixel rows that
    hold a pixel darker than `dark` (luminance 0-1) in the light columns (a dark side bar is no text),
    as a fraction of the picture's height, from the top."""
    luminance = image.imread(png_path)[..., :3].mean(axis=2)
    light = np.median(luminance, axis=0) > 0.8
    inked = (luminance[:, light] < dark).any(axis=1)
    starts = np.flatnonzero(inked & ~np.concatenate([[False], inked[:-1]]))
    return [start / len(inked) for start in starts]


class _ScriptParser(HTMLParser):
    """The text of the <script> element with a given id."""

    def __init__(self, script_id):
        super().__init__()
        self.script_id = script_id
        self.inside = False
        self.found = False
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag == "script" and dict(attrs).get("id") == self.script_id:
            self.inside = self.found = True

    def handle_endtag(self, tag):
        if tag == "script":
            self.inside = False

    def handle_data(self, data):
        if self.inside:
            self.parts.append(data)


def embedded_json(html_path, variable):
    """A JSON value that Snakemake's report template embeds as
    `<script id="NAME">var NAME = {...};</script>` (results, categories, rules, ...)."""
    parser = _ScriptParser(variable)
    parser.feed(Path(html_path).read_text(encoding="utf-8"))
    parser.close()
    if not parser.found:
        raise ValueError(f"{html_path}: no <script id={variable!r}>")
    source = "".join(parser.parts).strip()
    match = re.fullmatch(rf"var\s+{re.escape(variable)}\s*=\s*(.*?)\s*;?", source, re.DOTALL)
    if not match:
        raise ValueError(f"{html_path}: <script id={variable!r}> does not assign var {variable}")
    return json.loads(match.group(1))


def report_results(html_path):
    """Snakemake's report items: {path: {name, filename, labels, size, caption, mime_type,
    job_properties, data_uri}}, the path as the workflow wrote it (e.g. results/plots/x.png)."""
    return embedded_json(html_path, "results")
