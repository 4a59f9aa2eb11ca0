"""The one module that reads Snakemake's internals: its version check; a contract per surface against
the installed Snakemake and slurm plugin (a tiny workflow under the slurm executor that stops before
any sbatch, no Slurm needed; the report app's sources; a real run's lock files; the plugin's functions);
and a scan that finds no internal in any other file of the workflow."""

import inspect
import json
import pkgutil
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import snakemake

from digitstudy import snakemake_internals
from digitstudy.snakemake_internals import (
    REPORT_APP_CLASSES,
    REPORT_APP_GLOBALS,
    REPORT_OPEN_ITEM_SCRIPT,
    REPORT_START_PAGE_STYLE,
    SURFACES,
    WHAT_MAY_FAIL,
    WRITTEN_FOR,
    dry_run,
    lock_time,
    scontrol_partitions,
    slurm_account_guess,
    slurm_best_partition,
    slurm_default_partition,
    slurm_job_cpus,
    slurm_job_gpus,
    slurm_partition_file,
    version_warning,
    warn_on_other_version,
)
from helpers import REPO, project_pins
from test_slurm_plan import FakeJob


def test_the_version_written_for_says_nothing():
    assert version_warning("9.27.1") is None
    assert version_warning("9.27.0") is None and version_warning("9.27") is None


@pytest.mark.parametrize("found", ["9.28.0", "9.26.3", "10.0.0", "9.270.1"])
def test_another_version_is_named_in_one_line(found):
    warning = version_warning(found)
    assert "\n" not in warning
    assert f"Snakemake {found}" in warning and "Snakemake 9.27.x" in warning
    assert "the Slurm checks before the first sbatch (group sizes, jobs no node can run" in warning
    assert warning.endswith("may fail or be wrong; pyproject.toml pins the Snakemake they were written for")


def test_the_warning_comes_once_per_run(monkeypatch):
    monkeypatch.setattr(snakemake_internals, "WARNED", [])
    said = []
    warn_on_other_version("9.28.0", say=said.append)
    warn_on_other_version("9.28.0", say=said.append)
    assert said == [version_warning("9.28.0")]
    warn_on_other_version("9.27.1", say=said.append)
    assert len(said) == 1


def test_written_for_the_pinned_and_installed_snakemake():
    pinned = project_pins()["snakemake"]
    assert version_warning(pinned) is None and version_warning(snakemake.__version__) is None, WRITTEN_FOR


# onstart of a group of three jobs under the slurm executor: what SnakemakeRun reads, before and after
# lowering the group limits; then a stop, so that nothing is submitted.
SNAKEFILE = """
import json
import sys

from snakemake.exceptions import WorkflowError

from digitstudy.snakemake_internals import (
    SnakemakeRun,
    command_line_configfiles,
    replaces_workflow_config,
    slurm_executor,
)


rule all:
    input:
        expand("out/{{n}}.txt", n=[1, 2, 3]),


rule make:
    output:
        "out/{{n}}.txt",
    group:
        "g"
    resources:
        mem_mb=100,
        runtime=5,
    shell:
        "touch {{output}}"


onstart:
    run = SnakemakeRun(workflow)
    before = run.group_limits()
    (group,) = run.group_jobs()
    wide = group.threads, group.resources["mem_mb"]
    run.set_group_limits(1, 500)
    (group,) = run.group_jobs()
    found = dict(
        slurm=slurm_executor(workflow),
        jobs=len(run.jobs()),
        before=before,
        after=run.group_limits(),
        name=run.group_name(group),
        size=len(group.jobs),
        wide=wide,
        narrow=(group.threads, group.resources["mem_mb"], group.resources["runtime"]),
        wildcards=sorted(run.wildcards(next(iter(group.jobs)))),
        partition_config=run.executor_settings().partition_config,
        configfiles=[str(path) for path in command_line_configfiles(workflow)],
        replaces=replaces_workflow_config(workflow),
        run_id=run.slurm_run_id(),
    )
    print("INTERNALS " + json.dumps(found), file=sys.stderr)
    raise WorkflowError("stopped before sbatch")
"""


@pytest.mark.workflow
def test_the_internals_read_and_change_this_snakemakes_run(tmp_path):
    (tmp_path / "mine.yaml").write_text("key: value\n")
    (tmp_path / "Snakefile").write_text(SNAKEFILE.format())
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--executor", "slurm", "--jobs", "1", "--cores", "3"]
        + ["--group-components", "g=3", "--configfile", "mine.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "stopped before sbatch" in output, output[-3000:]
    (line,) = re.findall(r"^INTERNALS (.*)$", output, re.MULTILINE)
    (run_id,) = re.findall(r"SLURM run ID: (\S+)", output)  # the name the plugin gives every job it submits
    assert json.loads(line) == {
        "slurm": True,
        "jobs": 3,  # `all` runs here
        "before": [3, None],
        "after": [1, 500],
        "name": "g",
        "size": 3,
        "wide": [3, 300],  # three side by side
        "narrow": [1, 100, 15],  # one after another: the group's runtime adds up
        "wildcards": ["n"],
        "partition_config": None,
        "configfiles": [str(tmp_path / "mine.yaml")],  # absolute
        "replaces": False,
        "run_id": run_id,
    }
    assert "has been submitted" not in output and not (tmp_path / "out").exists()


def test_a_dry_run_is_told_from_the_command_line_while_the_snakefile_is_parsed():
    class Parsing:  # Snakemake 9 chooses its executor, the dry run one, after parsing
        dryrun = False

    for argv in (
        ["snakemake", "-n"],
        ["snakemake", "-np", "all"],
        ["snakemake", "--dry-run"],
        ["snakemake", "--dryrun"],
    ):
        assert dry_run(Parsing(), argv), argv
    for argv in (["snakemake", "--cores", "2"], ["snakemake", "--configfile", "config/quick.yaml", "-p"]):
        assert not dry_run(Parsing(), argv), argv


# --- every surface named, in the one line another version gets ------------------------------------

VERSION_CHECK = {"WRITTEN_FOR", "SURFACES", "WHAT_MAY_FAIL", "version_warning", "WARNED", "warn_on_other_version"}


def defined_here(module):
    """The public names a module defines itself (not those it imports)."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and getattr(value, "__module__", module.__name__) == module.__name__
    }


def test_what_may_fail_names_every_surface():
    surfaced = {name for _, names in SURFACES for name in names}
    unnamed = sorted(defined_here(snakemake_internals) - VERSION_CHECK - surfaced)
    assert not unnamed, f"snakemake_internals uses internals that SURFACES does not name: {unnamed}"
    assert surfaced <= set(vars(snakemake_internals)), sorted(surfaced - set(vars(snakemake_internals)))
    assert all(words in WHAT_MAY_FAIL for words, _ in SURFACES)
    assert "after_checkpoint" in WHAT_MAY_FAIL and "\n" not in WHAT_MAY_FAIL


def test_the_snakefile_asks_for_the_snakemake_written_for():
    snakefile = (REPO / "workflow" / "Snakefile").read_text()
    assert re.findall(r'^min_version\("([^"]*)"\)', snakefile, re.MULTILINE) == [WRITTEN_FOR]


# --- no internal outside snakemake_internals.py ---------------------------------------------------

HOME = "src/digitstudy/snakemake_internals.py"
SCANNED = (
    "src/digitstudy/**/*.py",
    "workflow/Snakefile",
    "workflow/rules/*.smk",
    "workflow/scripts/*.py",
    "workflow/report/*.rst",
)
# What Snakemake's documentation names: module -> the names imported from it.
PUBLIC_IMPORTS = {
    "snakemake": {"__version__"},
    "snakemake.utils": {"min_version", "validate", "update_config"},
    "snakemake.exceptions": {"WorkflowError"},
    "snakemake_interface_common.exceptions": {"WorkflowError"},
}
FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(snakemake[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.MULTILINE)
PLAIN_IMPORT = re.compile(r"^[ \t]*import[ \t]+(snakemake[\w.]*)", re.MULTILINE)
# Snakemake's modules, but `snakemake.resources`, which is also the documented resources of a rule
# script's `snakemake` object.
SUBMODULES = sorted(
    {module.name for module in pkgutil.iter_modules(snakemake.__path__)} - {"utils", "exceptions", "resources"}
)
UNDOCUMENTED_WORKFLOW = (
    "overwrite_configfiles",
    "config_settings",
    "executor_plugin",
    "executor_settings",
    "global_resources",
    "scheduler",
    "dag",
    "dryrun",
)
REPORT_CLASSES = sorted({name for pair in REPORT_APP_CLASSES for name in pair})
INTERNALS = {
    "a module of Snakemake's": rf"\bsnakemake\.(?:{'|'.join(SUBMODULES)})\b",
    "the slurm plugin's modules": r"\bsnakemake_executor_plugin_slurm\b",
    "the .snakemake folder": r"(?<![\w.])\.snakemake\b",
    "a private attribute of Snakemake's objects": r"\b(?:workflow|dag|scheduler|job|group|rule|persistence)\._\w"
    r"|\._executor\b|[\"']_cores[\"']",
    "an undocumented attribute of the workflow object": rf"\bworkflow\.(?:{'|'.join(UNDOCUMENTED_WORKFLOW)})\b",
    "a global of the report app": r"#app\b|\bToggleViewManager\b|\bhandleSelectedResult\b"
    r"|\btypeof\s+(?:app|results)\b|\bhasOwn\(\s*results\b",
    "a CSS class of the report app": rf"\.(?:{'|'.join(map(re.escape, REPORT_CLASSES))})(?![\w-])",
}


def line_of(text, index):
    return text.count("\n", 0, index) + 1


def imported_names(clause):
    """The names of `from m import <clause>`: one line, or a parenthesised list with comments."""
    clause = re.sub(r"#[^\n]*", "", clause).strip("() \n")
    return {part.split()[0] for part in clause.split(",") if part.strip()}


def internal_imports(text):
    """(line, what) of each import of a module of Snakemake or its plugins, or of a name, that no
    documentation names."""
    found = [
        (match.start(1), match[1])
        for match in FROM_IMPORT.finditer(text)
        if not imported_names(match[2]) <= PUBLIC_IMPORTS.get(match[1], set())
    ]
    found += [(match.start(1), match[1]) for match in PLAIN_IMPORT.finditer(text) if match[1] != "snakemake"]
    return [(line_of(text, index), f"an import from {module}") for index, module in found]


def internals_in(text):
    """(line, what) of each internal of Snakemake or its slurm plugin that `text` reaches."""
    found = [
        (line_of(text, match.start()), kind)
        for kind, pattern in INTERNALS.items()
        for match in re.finditer(pattern, text)
    ]
    return sorted(set(found + internal_imports(text)))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("from snakemake.dag import DAG", "an import from snakemake.dag"),
        (
            "from snakemake.exceptions import (\n    WorkflowError,  # public\n    IncompleteCheckpointException,\n)",
            "an import from snakemake.exceptions",
        ),
        ("import snakemake.persistence", "an import from snakemake.persistence"),
        ("from snakemake_executor_plugin_slurm.accounts import get_account", "the slurm plugin's modules"),
        ("snakemake.jobs.Job", "a module of Snakemake's"),
        ('LOCKS = ".snakemake/locks"', "the .snakemake folder"),
        ("workflow.scheduler._executor.run_uuid", "a private attribute of Snakemake's objects"),
        ("workflow.dag._group", "a private attribute of Snakemake's objects"),
        ('resources["_cores"]', "a private attribute of Snakemake's objects"),
        ("list(workflow.overwrite_configfiles)", "an undocumented attribute of the workflow object"),
        ("new ToggleViewManager(app)", "a global of the report app"),
        ("if (typeof results === 'object')", "a global of the report app"),
        ("#app .h-screen.items-center { align-items: flex-start; }", "a CSS class of the report app"),
        ("#app .prose.max-w-lg table { width: 100%; }", "a CSS class of the report app"),
    ],
)
def test_the_scan_finds_each_kind_of_internal(text, kind):
    found = internals_in(f"# before\n\n{text}\n# after\n")
    assert kind in {what for _, what in found} and {line for line, _ in found} == {3}, found


def test_the_scan_leaves_what_the_documentation_names():
    public = """from snakemake.utils import min_version, validate
from snakemake.exceptions import WorkflowError
from snakemake_interface_common.exceptions import WorkflowError
import snakemake
with logged(snakemake.log[0]) as log:
    run(snakemake.input.data, snakemake.output[0], snakemake.params.dpi, snakemake.resources.mem_mb)
    link = snakemake.report_href("results/runs.html")
**{{ snakemake.wildcards.dataset }}** in the report; the results of the study; .snakemake_internals
from digitstudy.snakemake_internals import SnakemakeRun
self._guarded(lambda: self._write_rows(rows))
"""
    assert internals_in(public) == []


def scanned_files():
    return sorted({path for pattern in SCANNED for path in REPO.glob(pattern)} - {REPO / HOME})


def test_no_other_file_reaches_an_internal():
    """Every internal of Snakemake, its slurm plugin and its report app sits in snakemake_internals.py,
    so that one module says what a new Snakemake may break."""
    files = scanned_files()
    assert len(files) > 30 and REPO / "workflow" / "report" / "workflow.rst" in files
    elsewhere = []
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        for line, what in internals_in("\n".join(lines)):
            elsewhere.append(f"{path.relative_to(REPO)}:{line}: {what}: {lines[line - 1].strip()}")
    assert not elsewhere, "internals outside snakemake_internals.py:\n" + "\n".join(elsewhere)


def test_snakemake_internals_is_where_the_scan_finds_them():
    kinds = {what for _, what in internals_in((REPO / HOME).read_text())}
    assert set(INTERNALS) - kinds == {"a module of Snakemake's"}, kinds  # it imports the modules instead


def test_the_workflows_modules_load_the_slurm_plugin_only_when_asked():
    """Planning a local run imports digitstudy's Slurm modules (slurm.smk, if asked) but none of the
    plugin's, which snakemake_internals imports inside the functions that read them."""
    code = (
        "import sys\n"
        "import digitstudy.progress, digitstudy.reportpage, digitstudy.slurm_plan, digitstudy.slurm_watch\n"
        "print(sorted(name for name in sys.modules if name.startswith('snakemake_executor_plugin_slurm')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


# --- the report app ----------------------------------------------------------------------------------

REPORT_APP = Path(snakemake.__file__).parent / "report" / "html_reporter" / "template"


def report_app_sources():
    """The report's page template and the scripts of its React app, as the installed Snakemake has them."""
    paths = sorted(REPORT_APP.rglob("*.js")) + [REPORT_APP / "index.html.jinja2"]
    return "\n".join(path.read_text(encoding="utf-8") for path in paths)


def test_the_report_app_declares_the_globals_the_start_page_script_reads():
    sources = report_app_sources()
    for name in REPORT_APP_GLOBALS:
        declared = rf"^\s*(?:var|let|const|class)\s+{name}\b"
        assert re.search(declared, sources, re.MULTILINE), f"the report app declares no global {name}"
        assert re.search(rf"\b{name}\b", REPORT_OPEN_ITEM_SCRIPT), name
    assert re.search(r"^\s*class ToggleViewManager extends \w+ \{\s*constructor\(app\)", sources, re.MULTILINE)
    assert re.search(r"^\s*handleSelectedResult\(resultPath\) \{", sources, re.MULTILINE)
    assert '<div id="app">' in sources


def test_the_report_app_has_the_classes_the_start_page_style_selects():
    elements = [
        set(classes.split()) for classes in re.findall(r"\bclass(?:Name)?: *[\"`]([^\"`]*)[\"`]", report_app_sources())
    ]
    for pair in REPORT_APP_CLASSES:
        assert any(set(pair) <= classes for classes in elements), f"no element of the report app has classes {pair}"
    selected = set(re.findall(r"\.([a-z][\w-]*)", REPORT_START_PAGE_STYLE))
    assert selected == set(REPORT_CLASSES), selected


# --- the .snakemake folder ---------------------------------------------------------------------------

LOCKED_SNAKEFILE = """
rule seen:
    output:
        "seen.json",
    run:
        import json
        import time

        from digitstudy.snakemake_internals import lock_time

        with open(output[0], "w") as handle:
            json.dump({"lock_time": lock_time("."), "now": time.time()}, handle)
"""


@pytest.mark.workflow
def test_a_running_snakemakes_locks_are_where_lock_time_looks(tmp_path):
    (tmp_path / "Snakefile").write_text(LOCKED_SNAKEFILE)
    before = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["lock_time"] is not None, "no lock file where lock_time looks while snakemake ran"
    assert before - 2 <= seen["lock_time"] <= seen["now"]
    assert lock_time(tmp_path) is None  # released at the end


# --- the slurm plugin's own decisions ----------------------------------------------------------------


def test_the_plugin_says_what_a_job_asks_for():
    assert slurm_job_gpus(FakeJob("r")) == 0
    assert slurm_job_gpus(FakeJob("r", gpu=2)) == 2 and slurm_job_gpus(FakeJob("r", gres="gpu:a100:3")) == 3
    assert slurm_job_cpus(FakeJob("r", threads=3)) == (3, "task")
    assert slurm_job_cpus(FakeJob("r", threads=3, cpus_per_task=5)) == (5, "task")
    assert slurm_job_cpus(FakeJob("r", gpu=2, cpus_per_gpu=4)) == (4, "gpu")


def test_the_plugin_reads_a_partition_file_and_picks_a_partition(tmp_path):
    config = tmp_path / "partitions.yaml"
    config.write_text("partitions:\n  small: {max_mem_mb: 4000, max_runtime: 60}\n  large: {max_mem_mb: 64000}\n")
    partitions = slurm_partition_file(config)
    assert [partition.name for partition in partitions] == ["small", "large"]
    assert slurm_best_partition(partitions, FakeJob("r", mem_mb=3000, runtime=30)) == "small"
    assert slurm_best_partition(partitions, FakeJob("r", mem_mb=8000, runtime=30)) == "large"
    assert slurm_best_partition(partitions, FakeJob("r", mem_mb=99000)) is None


def fake_commands(folder, **outputs):
    """A folder of commands, each printing its text of `outputs` whatever it is asked."""
    folder.mkdir()
    for name, text in outputs.items():
        command = folder / name
        command.write_text(f"#!/bin/sh\nprintf '%s' '{text}'\n")
        command.chmod(0o755)
    return str(folder)


def test_the_plugin_finds_the_default_partition_and_guesses_an_account(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", fake_commands(tmp_path / "site", sinfo="PARTITION\ndebug*\nshort\n", sacct="proj\n"))
    assert slurm_default_partition() == "debug" and slurm_account_guess() == "proj"
    monkeypatch.setenv("PATH", fake_commands(tmp_path / "bare", sinfo="PARTITION\nshort\n", sacct="(null)\n"))
    assert slurm_default_partition() == "" and not slurm_account_guess()
    monkeypatch.setenv("PATH", str(tmp_path / "none"))
    with pytest.raises(OSError):
        slurm_default_partition()
    with pytest.raises(OSError):
        slurm_account_guess()


def test_the_plugin_parses_scontrol_show_partition():
    shown = (
        "PartitionName=debug\n   Default=YES MaxTime=UNLIMITED MaxCPUsPerNode=UNLIMITED\n\n"
        "PartitionName=short\n   Default=NO MaxTime=00:30:00\n"
    )
    partitions = scontrol_partitions(shown)
    assert list(partitions) == ["debug", "short"]
    assert partitions["debug"]["Default"] == "YES" and partitions["short"]["MaxTime"] == "00:30:00"
