"""`snakemake --report` on a copy of the finished quick study, read as Snakemake wrote it and as a
real headless Chromium renders it."""

import re
from pathlib import PurePosixPath

import pytest

from browser import chromium_path, first_screen_text, is_blank, rendered_text, report_results, screenshot, visible_text
from helpers import copy_study, quick_config, snakemake


pytestmark = pytest.mark.workflow
QUICK = quick_config()
EXPERIMENTS = [(dataset, model) for dataset, models in QUICK["experiments"].items() for model in models]
REPORT = "results/report.html"


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


def summary_links(study):
    """The local files that results/summary.md links to, as paths relative to the study folder."""
    summary = (study / "results" / "summary.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", summary)
    return [f"results/{target}" for target in targets if not re.match(r"[a-z]+:|#", target)]


def report_item_of(path):
    """The report item that stands for a linked file: the figure itself, a table as its HTML."""
    path = PurePosixPath(path)
    if path.suffix == ".png":
        return str(path)
    if path.suffix in (".md", ".csv"):
        return str(path.with_suffix(".html"))
    return None


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


def test_report_is_written(report):
    study, finished = report
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert (study / REPORT).stat().st_size > 100_000  # the React app and the embedded figures


def test_every_figure_and_table_of_the_summary_is_in_the_report(report_file, items):
    study = report_file.parents[1]
    expected = {report_item_of(path) for path in summary_links(study)} - {None}
    assert len(expected) >= 4 * len(EXPERIMENTS), f"summary.md links to too little: {expected}"
    missing = sorted(expected - set(items))
    assert not missing, f"{len(missing)} linked files are not report items: {missing}"
    tables = [path for path in expected if path.endswith(".html")]
    assert tables and all(items[path]["mime_type"] == "text/html" for path in tables)


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
    """The summary's first finding as a reader sees it rendered (Markdown's bold marks gone), up to
    its test error: '<task>: the best model (chosen on validation) is <model>'."""
    summary = (study / "results" / "summary.md").read_text()
    first = re.search(r"^1\. (.*)$", summary, re.MULTILINE).group(1).replace("**", "")
    return first.split(", with test error")[0]


def test_report_opens_at_its_title_and_findings(report_file, chromium):
    """A long landing page must start on screen: Snakemake centres it vertically, and a page taller
    than the window then loses its top (the title, the findings) where no scrolling reaches."""
    text = first_screen_text(report_file, chromium=chromium)
    finding = first_finding(report_file.parents[1])
    assert finding.startswith(f"{EXPERIMENTS[0][0]}: the best model (chosen on validation) is ")
    letters = lambda words: "".join(words.split())  # noqa: E731 (the page spaces bold words apart)
    for expected in ("digitstudy results", "Findings", finding):
        assert letters(expected) in letters(text), f"the first screen lacks {expected!r}; it shows only: {text[:1500]}"


def test_screenshot_of_the_report_is_not_blank(report_file, chromium, tmp_path):
    picture = screenshot(report_file, tmp_path / "report.png", chromium=chromium)
    assert not is_blank(picture), f"{picture} is one colour"
