"""The documents state each figure about the study once (docs/methods.md, "Size and time"), and the
counts there follow from the config: checked against config/config.yaml and config/quick.yaml, so
that a changed config cannot leave them wrong. And CHANGELOG.md dates each version, newest first,
the first being the package's."""

import datetime
import re

import pytest

from digitstudy import __version__
from digitstudy.study import all_runs, experiments
from helpers import QUICK_CONFIG, REPO, markdown_table, workflow_config


METHODS = REPO / "docs" / "methods.md"
SIZE_ANCHOR = "size-and-time"
# The documents that speak of the study's size or time: each links to the one table instead.
LINKING = ("README.md", "docs/usage.md", "docs/cluster.md", "config/README.md")
CONFIGS = {"quick study": (QUICK_CONFIG,), "full study": ()}


def marked_table(text, marker):
    """(header, {first cell: [other cells]}) of the Markdown table after `marker` (an HTML comment)."""
    rows = markdown_table(text.split(f"<!-- {marker} -->\n", 1)[1])
    header = list(rows[0])
    return header, {row[header[0]]: [row[name] for name in header[1:]] for row in rows}


def span(low, high):
    return f"{low}" if low == high else f"{low} to {high}"


def size_counts(config):
    """What docs/methods.md's table says of a study's size, from its config."""
    confirm = config["confirm"]
    n_experiments, per_experiment = len(experiments(config)), len(all_runs(config))
    first, most = confirm["first"], confirm["max"]
    return {
        "experiments (dataset x model)": f"{n_experiments}",
        "seed-study and grid runs per experiment": f"{per_experiment}",
        "seed-study and grid runs in all": f"{n_experiments * per_experiment}",
        "fresh replicates per chosen configuration": span(first, most),
        "fresh replicates in all": span(n_experiments * first, n_experiments * most),
        "training runs in all": span(n_experiments * (per_experiment + first), n_experiments * (per_experiment + most)),
    }


@pytest.mark.parametrize("study", CONFIGS)
def test_the_size_table_follows_from_the_config(study):
    header, rows = marked_table(METHODS.read_text(), "study-size")
    column = header.index(study) - 1
    for name, count in size_counts(workflow_config(*CONFIGS[study])).items():
        assert rows[name][column] == count, f"docs/methods.md, Size and time: {name} of the {study}"


def test_the_size_table_is_the_section_the_documents_link_to():
    assert "\n## Size and time\n" in METHODS.read_text()
    for name in LINKING:
        assert f"methods.md#{SIZE_ANCHOR}" in (REPO / name).read_text(), f"{name} does not link to the size table"


def test_no_document_gives_the_quick_study_a_time_of_its_own():
    """The quick study's time was "about a minute", "on a laptop" and "2 min" in three places."""
    for path in [REPO / "README.md", REPO / "CONTRIBUTING.md", *REPO.glob("docs/*.md"), *REPO.glob("config/*")]:
        text = path.read_text()
        assert not re.search(r"about a minute|on a laptop", text), f"{path.relative_to(REPO)} states a time of its own"


CHANGELOG_HEADING = re.compile(r"^## (?:Before )?(\d+\.\d+\.\d+) - (\d{4}-\d\d-\d\d)$")


def test_the_changelog_dates_each_version_newest_first():
    headings = [line for line in (REPO / "CHANGELOG.md").read_text().splitlines() if line.startswith("## ")]
    parsed = [CHANGELOG_HEADING.match(line) for line in headings]
    assert all(parsed), [line for line, match in zip(headings, parsed) if not match]
    assert parsed[0][1] == __version__, "CHANGELOG.md's first version is not the package's"
    versions = [tuple(map(int, match[1].split("."))) for match in parsed]
    dates = [datetime.date.fromisoformat(match[2]) for match in parsed]
    assert versions == sorted(versions, reverse=True)
    assert dates == sorted(dates, reverse=True)
