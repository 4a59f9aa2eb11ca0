"""The summary's links inside `snakemake --report` (digitstudy.reportpage), with a fake report_href."""

import re
from html.parser import HTMLParser

import pytest
from snakemake.iocontainers import ReportHref

from digitstudy.links import linked_files
from digitstudy.paths import REPORT_FINDINGS
from digitstudy.reportpage import landing_html, report_item, report_item_html, without_links
from digitstudy.snakemake_internals import REPORT_OPEN_ITEM_SCRIPT, REPORT_START_PAGE_STYLE
from helpers import REPO


SUMMARY = """# digitstudy results

Models compared: [chosen](tables/mnist/chosen.md); [pairwise tests](tables/mnist/pairwise.md).

| experiment | grid |
|---|---|
| mnist / cnn | [grid](tables/mnist/cnn/grid.md) |

- mnist / cnn: [learning curves](plots/mnist/cnn/curves.png), [confusion](tables/mnist/cnn/confusion.json)

![the chosen models of every task](plots/comparison.png)

- [every run](runs.csv), [the paper](https://example.org/paper.md), [above](#findings)
"""
LINKED_ITEMS = [
    "results/tables/mnist/chosen.html",
    "results/tables/mnist/pairwise.html",
    "results/tables/mnist/cnn/grid.html",
    "results/plots/mnist/cnn/curves.png",
    "results/plots/comparison.png",
    "results/runs.html",
]


def fake_report_href(path):
    """Like snakemake.report_href: an object whose str() is the item's URL inside the report."""
    return f"../HREF/{path}"


class Links(HTMLParser):
    """[(href, data-report-item, text)] of a page's links, and the onload of its images."""

    def __init__(self, page):
        super().__init__()
        self.links, self.onloads, self.inside = [], [], None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.inside = [attrs.get("href"), attrs.get("data-report-item"), ""]
        if tag == "img" and "onload" in attrs:
            self.onloads.append(attrs["onload"])

    def handle_data(self, data):
        if self.inside is not None:
            self.inside[2] += data

    def handle_endtag(self, tag):
        if tag == "a" and self.inside is not None:
            self.links.append(tuple(self.inside))
            self.inside = None


@pytest.mark.parametrize(
    ("target", "item"),
    [
        ("tables/mnist/cnn/grid.md", "results/tables/mnist/cnn/grid.html"),
        ("tables/cost.md", "results/tables/cost.html"),
        ("runs.csv", "results/runs.html"),
        ("plots/comparison.png", "results/plots/comparison.png"),
        ("plots/twodigit_samples.png", "results/plots/twodigit_samples.png"),
        ("tables/mnist/cnn/choice.json", None),
        ("https://example.org/a.md", None),
        ("#findings", None),
        ("/etc/table.md", None),
        ("../outside.md", None),
        ("", None),
    ],
)
def test_a_link_target_maps_to_its_report_item(target, item):
    assert report_item(target) == item


def test_every_file_the_summary_links_to_has_a_report_item():
    files = linked_files([("mnist", "cnn"), ("twodigit", "lenet5")], ["twodigit"])
    assert files, "the summary links to nothing"
    without = [path for path in files if report_item(path.removeprefix("results/")) is None]
    assert not without, f"linked files without a report item: {without}"


def test_the_summary_item_links_to_items_through_report_href():
    links = Links(report_item_html(SUMMARY, fake_report_href)).links
    assert [item for _, item, _ in links] == LINKED_ITEMS
    assert all(href == fake_report_href(item) for href, item, _ in links)
    texts = {item: text for _, item, text in links}
    assert texts["results/tables/mnist/cnn/grid.html"] == "grid"
    assert texts["results/plots/comparison.png"] == "figure: the chosen models of every task"


def test_links_without_a_report_item_keep_their_text():
    page = report_item_html(SUMMARY, fake_report_href)
    for text, target in (("confusion", "confusion.json"), ("the paper", "example.org"), ("above", "#findings")):
        assert text in page and target not in page


def test_the_summary_item_asks_the_report_to_open_an_item_inside_a_data_url():
    page = report_item_html(SUMMARY, fake_report_href)
    script = re.search(r"<script>(.*?)</script>", page, re.DOTALL).group(1)
    assert 'location.protocol === "data:"' in script and "parent.postMessage" in script
    assert page.index("<script>") > page.index("runs.html")  # after the links, inside <body>


def test_the_start_page_links_open_items_in_the_report():
    parsed = Links(landing_html(SUMMARY, fake_report_href))
    assert [item for _, item, _ in parsed.links] == LINKED_ITEMS
    assert all(href == f"#{item}" for href, item, _ in parsed.links)
    assert parsed.onloads == [REPORT_OPEN_ITEM_SCRIPT], "the start page must bring the script that opens items, once"


def test_outside_a_rule_the_links_keep_their_text_only():
    for page in (report_item_html(SUMMARY), landing_html(SUMMARY)):
        parsed = Links(page)
        assert parsed.links == [] and parsed.onloads == [] and "<script>" not in page
        assert "figure: see the report's study section" in page
    assert landing_html(SUMMARY) == landing_html(SUMMARY, None)
    assert "grid" in without_links(SUMMARY) and "](" not in without_links(SUMMARY)


def test_the_start_page_brings_the_style_that_gives_it_the_pages_width():
    """workflow.rst includes findings.html and holds no selector of Snakemake's report app itself
    (test_snakemake_internals.py: test_no_other_file_reaches_an_internal)."""
    assert f":file: {REPORT_FINDINGS}" in (REPO / "workflow" / "report" / "workflow.rst").read_text()
    for page in (landing_html(SUMMARY), landing_html(SUMMARY, fake_report_href)):
        assert page.startswith(REPORT_START_PAGE_STYLE) and page.count("<style>") == 1


def test_snakemake_report_href_gives_the_url_of_its_item():
    """Snakemake's own: an item's URL relative to another item's (a .zip report keeps each in a folder)."""
    links = Links(report_item_html(SUMMARY, ReportHref)).links
    href, item, _ = links[2]
    assert re.fullmatch(r"\.\./[0-9a-f]{16}/grid\.html", href), href
    assert item == "results/tables/mnist/cnn/grid.html"
