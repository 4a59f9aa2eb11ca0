"""The workflow used as a module of a user's own workflow, as docs/usage.md ("Use it as a module")
shows it: a folder with a copy of config/ and the example's workflow/Snakefile, the module named by
the path of this clone."""

import re
import shutil

import pytest

from digitstudy.record import RECORD, read_record
from helpers import REPO, snakemake


pytestmark = pytest.mark.workflow
EXAMPLE_SNAKEFILE = '"../../digitstudy/workflow/Snakefile"'


def module_example():
    usage = (REPO / "docs" / "usage.md").read_text()
    return re.search(r"<!-- module-example -->\n```python\n(.*?)```", usage, re.DOTALL).group(1)


@pytest.fixture
def own_workflow(tmp_path):
    """The user's folder: config/ copied from the clone, workflow/Snakefile from the example."""
    folder = tmp_path / "mystudy"
    shutil.copytree(REPO / "config", folder / "config")
    example = module_example()
    assert EXAMPLE_SNAKEFILE in example
    (folder / "workflow").mkdir()
    (folder / "workflow" / "Snakefile").write_text(
        example.replace(EXAMPLE_SNAKEFILE, f'"{REPO / "workflow" / "Snakefile"}"')
    )
    return folder


def test_the_module_plans_the_quick_study(own_workflow, mnist_dir):
    dry = snakemake(own_workflow, "--dry-run", mnist_dir=mnist_dir)
    assert dry.returncode == 0, (dry.stdout + dry.stderr)[-2000:]  # a dry run's errors go to stdout
    assert re.search(r"^train_run\s+(\d+)$", dry.stdout, re.MULTILINE).group(1) == "15"
    assert not (own_workflow / RECORD).exists()


def test_a_run_through_the_module_records_the_study(own_workflow, mnist_dir):
    """The module's onstart handler runs only because the example's Snakefile calls it."""
    fetched = snakemake(own_workflow, "data/raw/mnist/train-images-idx3-ubyte", mnist_dir=mnist_dir, cores=1)
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    assert read_record(own_workflow / RECORD)["study"] == "quick"
