"""`snakemake --report` on a copy of the finished quick study, read as Snakemake wrote it and as a
real headless Chromium renders it."""

import base64
import html
import json
import re
from pathlib import PurePosixPath

import pytest

from browser import (
    chromium_path,
    embedded_json,
    first_screen_text,
    followed,
    is_blank,
    rendered_text,
    report_results,
    screenshot,
    start_page_layout,
    text_lines,
    visible_text,
    with_item_script,
)
from digitstudy.reportpage import report_item
from helpers import copy_study, quick_config, snakemake


pytestmark = pytest.mark.workflow
QUICK = quick_config()
EXPERIMENTS = [(dataset, model) for dataset, models in QUICK["experiments"].items() for model in models]
REPORT = "results/report.html"
SUMMARY_ITEM = "results/report/summary.html"  # rule write_summary


@pytest.fixture(scope="module")
def report(quick_study, mnist_dir, tmp_path_factory):
    """(study folder, finished `snakemake --report` process), on a copy of the quick study."""
    study = copy_study(quick_study, tmp_path_factory.mktemp("report") / "study")
    return study, snakemake(study, "--report", REPORT, mnist_dir=mnist_dir)


@pytest.fixture(scope="module")
def report_file(report):
    study, finished = report
    assert finished.returncode == 0, finished.stderr[-3000:]
    return study / REPORT


@pytest.fixture(scope="module")
def items(report_file):
    return report_results(report_file)


@pytest.fixture(scope="module")
def chromium():
    return chromium_path()


def summary_items(study):
    """The report items of the files that results/summary.md links to (reportpage.report_item: the
    figure itself, a table's HTML form), in the order of the links."""
    summary = (study / "results" / "summary.md").read_text()
    items = (report_item(target) for target in re.findall(r"\]\(([^)\s]+)\)", summary))
    return [item for item in items if item is not None]


def experiment_of(path):
    """(dataset, model) that an item's path names: results/{plots,tables}/{dataset}/{model}/...,
    results/plots/{dataset}_*.png; model None for a dataset-wide item, both None for the study's."""
    folders, name = PurePosixPath(path).parts[2:-1], PurePosixPath(path).name  # after results/x/
    for dataset, models in QUICK["experiments"].items():
        if folders[:1] == (dataset,):
            return dataset, folders[1] if folders[1:2] and folders[1] in models else None
        if name.startswith(f"{dataset}_"):
            return dataset, None
    return None, None


def test_report_embeds_every_figure_of_the_study_as_it_is_on_disk(report_file, items):
    study = report_file.parents[1]
    figures = sorted(str(path.relative_to(study)) for path in (study / "results" / "plots").rglob("*.png"))
    assert len(figures) >= 4 * len(EXPERIMENTS), f"the study made too few figures: {figures}"
    missing = [path for path in figures if path not in items]
    assert not missing, f"{len(missing)} figures are not report items: {missing}"
    for path in figures:
        header, data = items[path]["data_uri"].split(",", 1)
        assert header.startswith("data:image/png;") and header.endswith(";base64"), f"{path}: {header}"
        assert base64.b64decode(data) == (study / path).read_bytes(), f"{path}: the report holds another picture"


def test_every_figure_and_table_of_the_summary_is_in_the_report(report_file, items):
    study = report_file.parents[1]
    expected = set(summary_items(study))
    assert len(expected) >= 4 * len(EXPERIMENTS), f"summary.md links to too little: {expected}"
    missing = sorted(expected - set(items))
    assert not missing, f"{len(missing)} linked files are not report items: {missing}"
    tables = [path for path in expected if path.endswith(".html")]
    assert tables and all(items[path]["mime_type"] == "text/html" for path in tables)


def test_every_link_of_the_summary_item_names_a_report_item(report_file, items):
    """Each link of the summary's item and of the start page leads to an item that the report holds."""
    study = report_file.parents[1]
    for page in ("summary.html", "findings.html"):
        linked = re.findall(r'data-report-item="([^"]*)"', (study / "results" / "report" / page).read_text())
        assert linked == summary_items(study), f"{page} links to other items than summary.md"
        missing = sorted(set(linked) - set(items))
        assert not missing, f"{page} links to items that are not in the report: {missing}"


def test_every_item_has_a_caption_and_labels_naming_its_task_and_model(items):
    assert items, "the report has no items"
    for path, item in items.items():
        assert visible_text(item["caption"] or "").strip(), f"{path}: no caption"
        labels = item["labels"]
        assert labels, f"{path}: no labels"
        values = {str(value) for value in labels.values()}
        dataset, model = experiment_of(path)
        assert dataset is None or dataset in values, f"{path}: labels {labels} lack task {dataset}"
        assert model is None or model in values, f"{path}: labels {labels} lack model {model}"


def test_rendered_report_names_every_experiment(report_file, chromium):
    text = rendered_text(report_file, chromium=chromium)
    assert "digitstudy" in text, text[:3000]
    missing = [f"{d} / {m}" for d, m in EXPERIMENTS if f"{d} / {m}" not in text]
    assert not missing, f"the rendered report does not name {missing}:\n{text[:3000]}"


def first_finding(study):
    """The summary's first finding as a reader sees it rendered (Markdown's bold marks gone), up to its
    second bold words: '<task>: the best model ... is <model>' (or '<task>: the only model, <model>')."""
    summary = (study / "results" / "summary.md").read_text()
    first = re.search(r"^1\. (.*)$", summary, re.MULTILINE).group(1)
    return re.match(r"(?:[^*]*\*\*[^*]+\*\*){1,2}", first).group(0).replace("**", "")


def test_report_opens_at_its_title_and_findings(report_file, chromium):
    """A long landing page must start on screen: Snakemake centres it vertically, and a page taller
    than the window then loses its top (the title, the findings) where no scrolling reaches."""
    text = first_screen_text(report_file, chromium=chromium)
    finding = first_finding(report_file.parents[1])
    assert finding.startswith(f"{EXPERIMENTS[0][0]}: ") and len(finding.split()) > 3, finding
    letters = lambda words: "".join(words.split())  # noqa: E731 (the page spaces bold words apart)
    for expected in ("digitstudy results", "Findings", finding):
        assert letters(expected) in letters(text), f"the first screen lacks {expected!r}; it shows only: {text[:1500]}"


def test_screenshot_of_the_report_shows_lines_of_text_from_its_top(report_file, chromium, tmp_path):
    """What a reader sees, painted: a page that failed to render is a white sheet (or a bare frame);
    the report opens on its title and findings, dark lines of text from the top of the window down."""
    picture = screenshot(report_file, tmp_path / "report.png", chromium=chromium)
    assert not is_blank(picture), f"{picture} is one colour"
    lines = text_lines(picture)
    assert len(lines) >= 10, f"{picture} shows {len(lines)} lines of text"
    assert lines[0] < 0.2, f"{picture}: its first line of text is {lines[0]:.0%} down the window"


def test_the_start_page_tables_use_the_page_width(report_file, chromium):
    """Snakemake keeps the start page's text in a narrow column; workflow.rst widens it beside the rule
    graph, and the summary's tables fill it."""
    layout = start_page_layout(report_file, chromium=chromium)
    assert layout["tables"], f"the start page shows no table: {layout}"
    assert layout["text"] > layout["window"] / 2, f"the start page's text is a narrow column: {layout}"
    narrower = [width for width in layout["tables"] if width < layout["text"] - 1]
    assert not narrower, f"tables narrower than the text: {layout}"


def menu_path(report_file, item):
    """The side bar's entries that lead to `item`: [its category, its subcategory]."""
    categories = embedded_json(report_file, "categories")
    return next([name, sub] for name, subs in categories.items() for sub, paths in subs.items() if item in paths)


def table_title(path):
    """The title of a table's HTML form (tables.table_html: its <h2>)."""
    return html.unescape(re.search(r"<h2>(.*?)</h2>", path.read_text(encoding="utf-8")).group(1))


# Run inside the summary item once it has loaded: a reader's click on the link that a selector finds.
CLICK_IN_ITEM = """<script>
addEventListener("load", () => setTimeout(() => document.querySelector(%s).click(), 200));
</script>"""


def test_a_link_in_the_summary_item_opens_its_table(report_file, items, chromium):
    """Open the summary item from the menu as a reader does, click its first link to a table there,
    and see the report show that table."""
    study = report_file.parents[1]
    table = next(item for item in summary_items(study) if item.endswith(".html"))
    assert table in items
    click = CLICK_IN_ITEM % json.dumps(f'a[data-report-item="{table}"]')
    page = with_item_script(report_file, SUMMARY_ITEM, click)
    steps = [{"menu": name} for name in menu_path(report_file, SUMMARY_ITEM)] + [{"view": True}]
    seen = followed(report_file, steps, table, page=page, chromium=chromium)
    assert seen["error"] is None, seen
    assert seen["shown"] == table, f"the report shows {seen['shown']}, not {table}: {seen}"
    assert seen["title"] == table_title(study / table)


def test_a_picture_of_the_start_page_opens_its_figure(report_file, chromium):
    """The summary embeds a figure (![...](...)); on the start page that is a link to the figure's item."""
    summary = (report_file.parents[1] / "results" / "summary.md").read_text()
    figure = report_item(re.search(r"!\[[^\]]*\]\(([^)\s]+)\)", summary).group(1))
    seen = followed(report_file, [{"css": f'#app a[data-report-item="{figure}"]'}], figure, chromium=chromium)
    assert seen["error"] is None, seen
    assert seen["shown"] == figure, f"the report shows {seen['shown']}, not {figure}: {seen}"
