"""The summary inside `snakemake --report`: as a report item of its own (results/report/summary.html)
and as the findings the report's start page shows (results/report/findings.html).

Each link of the summary leads to the report item that shows its file. In the item, the link's URL is
Snakemake's `report_href`: it works in a report made as a .zip, where each item is a file beside the
others. A report made as one .html file (ours: results/report.html) shows each item from a data: URL,
against which no relative URL resolves, and its start page is no item at all. So both pages also name
the item in `data-report-item`, and findings.html gives report.html a few lines of JavaScript that open
such an item in the report, as its menu does. That JavaScript, and the style that gives the start page
its width, read what only Snakemake's own report app names (snakemake_internals: REPORT_OPEN_ITEM_SCRIPT,
REPORT_START_PAGE_STYLE); where that is missing, a link does nothing.
"""

import html
import re
from pathlib import PurePosixPath

from .snakemake_internals import REPORT_OPEN_ITEM_SCRIPT, REPORT_START_PAGE_STYLE
from .tables import markdown_fragment, markdown_html


TITLE = "digitstudy results"
PICTURE = re.compile(r"!\[([^\]]*)\]\(([^)\s]*)\)")
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
# What a summary link's target becomes in the report: a figure is an item itself, a table (.md, .csv)
# has its HTML form as the item (paths.py: a table is written as .csv, .md and .html beside each other).
ITEM_SUFFIX = {".png": ".png", ".md": ".html", ".csv": ".html"}

# In the item: a click on an item link inside a data: URL asks the report page to open the item.
ITEM_SCRIPT = """<script>
document.addEventListener("click", event => {
  const link = event.target.closest("a[data-report-item]");
  if (link && location.protocol === "data:") {
    event.preventDefault();
    parent.postMessage({reportItem: link.dataset.reportItem}, "*");
  }
});
</script>"""

# A one-pixel image, there at once: its onload runs the start page's script.
PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def without_links(text):
    """The summary for the report, where every table and figure is an item of its own: link texts stay,
    link targets and embedded pictures go."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "(figure: see the report's study section)", text)
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)


def report_item(target):
    """The report item, as the workflow declares it (results/tables/mnist/cnn/grid.html), that shows the
    file a summary link names relative to results/ (tables/mnist/cnn/grid.md); None for a target that
    is no file of results/ or has no item (another suffix)."""
    if not target or re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|[#/]", target):
        return None
    path = PurePosixPath("results", target)
    if ".." in path.parts or path.suffix not in ITEM_SUFFIX:
        return None
    return str(path.with_suffix(ITEM_SUFFIX[path.suffix]))


def item_link(words, target, url_of):
    """An HTML link from `words` to the item of `target` (url_of(item): its URL), or the words alone."""
    item = report_item(target)
    if item is None:
        return words
    url, name = html.escape(url_of(item)), html.escape(item)
    return f'<a href="{url}" data-report-item="{name}">{words}</a>'


def with_item_links(text, url_of):
    """The summary's Markdown with each link to a file that has a report item, and each embedded
    picture, as an HTML link to that item; other links keep their text."""
    text = PICTURE.sub(lambda found: item_link(f"figure: {found[1]}", found[2], url_of), text)
    return LINK.sub(lambda found: item_link(found[1], found[2], url_of), text)


def report_item_html(text, report_href=None):
    """The summary's Markdown `text` as the report item results/report/summary.html. `report_href`:
    the rule script's snakemake.report_href (None outside a rule: the links keep their text only)."""
    if report_href is None:
        return markdown_html(without_links(text), TITLE)
    page = markdown_html(with_item_links(text, lambda item: str(report_href(item))), TITLE)
    return page.replace("</body>", f"{ITEM_SCRIPT}</body>", 1)


def landing_html(text, report_href=None):
    """The summary's Markdown `text` as the fragment the report's start page embeds (workflow.rst), with
    the style that lets it start at the top and take the page's width; with `report_href` (inside the
    rule), its links open their items in the report, and it brings the script for that (run by an
    image's onload: snakemake_internals.REPORT_OPEN_ITEM_SCRIPT says why)."""
    if report_href is None:
        return REPORT_START_PAGE_STYLE + markdown_fragment(without_links(text))
    fragment = markdown_fragment(with_item_links(text, lambda item: f"#{item}"))
    script = html.escape(REPORT_OPEN_ITEM_SCRIPT)
    return f'{REPORT_START_PAGE_STYLE}{fragment}<img hidden alt="" src="{PIXEL}" onload="{script}">\n'
