"""The one place that reads Snakemake's internals: what no public documentation names.

No public call of Snakemake lists the group jobs of a run before they are scheduled, caps what a group
job asks for, or says which config files the command line gave; no public module of the slurm executor
plugin says which partition, account, CPUs and GPUs it will ask for; no documented hook widens the
report's start page or opens a report item from it; and the .snakemake folder's layout is Snakemake's
own. These do, through attributes, modules, JavaScript globals, CSS classes and folders of the pinned
Snakemake (WRITTEN_FOR) and its slurm plugin, which may change in any release. Each surface is named
in SURFACES, another Snakemake version is told in one line before the first use, and
tests/test_snakemake_internals.py checks each surface against the installed Snakemake and that no
other file of the workflow reaches one.
"""

import logging
import re
import sys
from pathlib import Path

import snakemake


WRITTEN_FOR = "9.27"

# What may fail or be wrong on another Snakemake, and the names here that it rests on.
SURFACES = (
    (
        "the study record's config files (--configfile, --replace-workflow-config)",
        ("command_line_configfiles", "replaces_workflow_config"),
    ),
    ("the dry run's plan of the replicates", ("dry_run",)),
    ("the runs that wait for a checkpoint's output (after_checkpoint)", ("after_checkpoint",)),
    (
        "the Slurm checks before the first sbatch (group sizes, jobs no node can run, the plugin's partitions "
        "and account) and the watch of pending Slurm jobs",
        (
            "slurm_executor",
            "SnakemakeRun",
            "SILENT",
            "slurm_job_gpus",
            "slurm_job_cpus",
            "slurm_partition_file",
            "slurm_best_partition",
            "slurm_default_partition",
            "slurm_account_guess",
            "scontrol_partitions",
        ),
    ),
    (
        "the report's start page (its width, links that open items)",
        ("REPORT_APP_GLOBALS", "REPORT_APP_CLASSES", "REPORT_OPEN_ITEM_SCRIPT", "REPORT_START_PAGE_STYLE"),
    ),
    (
        "digitstudy-progress's running runs and digitstudy-upgrade's unlock (Snakemake's lock files)",
        ("LOCKS", "lock_time", "remove_locks"),
    ),
)
WHAT_MAY_FAIL = (
    ", ".join(words for words, _ in SURFACES[:-1])
    + f" and {SURFACES[-1][0]} may fail or be wrong; pyproject.toml pins the Snakemake they were written for"
)


def version_warning(found):
    """One line when Snakemake `found` is not the version these internals were written for, else None."""
    if found == WRITTEN_FOR or found.startswith(WRITTEN_FOR + "."):
        return None
    return (
        f"Warning: digitstudy reads internals of Snakemake {WRITTEN_FOR}.x, this is Snakemake {found}: {WHAT_MAY_FAIL}"
    )


WARNED = []


def warn_on_other_version(found=snakemake.__version__, say=lambda line: print(line, file=sys.stderr)):
    """Say version_warning() once per run, before the first use of an internal."""
    warning = version_warning(found)
    if warning and not WARNED:
        WARNED.append(warning)
        say(warning)


# --- the workflow object, while the Snakefile is parsed ------------------------------------------------


def command_line_configfiles(workflow):
    """The config files given with --configfile, in their order, as absolute paths."""
    warn_on_other_version()
    return list(workflow.overwrite_configfiles or [])


def replaces_workflow_config(workflow):
    """True under --replace-workflow-config: the config files replace the Snakefile's configfile."""
    warn_on_other_version()
    return bool(workflow.config_settings.replace_workflow_config)


def dry_run(workflow, argv=None):
    """True under --dry-run (-n, or -n among other short flags: -np). While the Snakefile is parsed,
    Snakemake 9 has not chosen its executor yet (the dry run is one), so workflow.dryrun is still
    False there: the command line tells."""
    if workflow.dryrun:
        return True
    for arg in (sys.argv if argv is None else argv)[1:]:
        if arg in ("--dry-run", "--dryrun", "--dry_run") or re.fullmatch(r"-[A-Za-z]*n[A-Za-z]*", arg):
            return True
    return False


def after_checkpoint(make, pending):
    """make(), or, while a checkpoint whose output make() reads has not run, pending() and that output,
    flagged as Snakemake flags it (IncompleteCheckpointException.targetfile): Snakemake evaluates the
    input function again once the output is there. An input function that raises gets the same from
    Snakemake, but loses its other files: one experiment's unmade choice would hold back the jobs of
    every other experiment."""
    from snakemake.exceptions import IncompleteCheckpointException

    warn_on_other_version()
    try:
        return make()
    except IncompleteCheckpointException as incomplete:
        return [*pending(), incomplete.targetfile]


# --- the run under the slurm executor: its DAG, group jobs and run id ---------------------------------


def slurm_executor(workflow):
    """True under the slurm executor plugin (--executor slurm, as slurm/config.yaml sets)."""
    plugin = workflow.executor_plugin
    return plugin is not None and plugin.name == "slurm"


class SnakemakeRun:
    """What the Slurm checks read from, and change in, this run of Snakemake (the `workflow` object
    of a Snakefile)."""

    def __init__(self, workflow):
        warn_on_other_version()
        self.workflow = workflow

    def slurm_run_id(self):
        """The slurm plugin's id of this run (its executor's run_uuid): the plugin submits every job
        with it as the job's name. The executor exists once Snakemake has made its scheduler, before
        onstart."""
        return self.workflow.scheduler._executor.run_uuid

    def executor_settings(self):
        """The slurm plugin's settings (--slurm-*), as the plugin itself reads them."""
        return self.workflow.executor_settings

    def jobs(self):
        """The jobs this run still has to run outside this process (localrules stay here)."""
        return [job for job in self.workflow.dag.needrun_jobs() if not job.is_local]

    def group_limits(self):
        """(cores, mem_mb) up to which a group job runs its members side by side; None: no limit."""
        resources = self.workflow.global_resources
        mem_mb = resources.get("mem_mb")
        return resources["_cores"].value, None if mem_mb is None else mem_mb.value

    def set_group_limits(self, cores, mem_mb):
        self.workflow.global_resources["_cores"] = cores
        self.workflow.global_resources["mem_mb"] = mem_mb

    def group_jobs(self):
        """Every group job of the run (job -> group job is the DAG's private map), its resources
        computed again under the current group_limits()."""
        groups = set(self.workflow.dag._group.values())
        for group in groups:
            group._resources = group._scheduler_resources = None
        return sorted(groups, key=lambda group: group.groupid)

    @staticmethod
    def group_name(group):
        """The group's name as --groups and --group-components know it (train_{dataset}_{model})."""
        return next(iter(group.jobs)).rule.group

    @staticmethod
    def wildcards(job):
        return dict(job.wildcards_dict)


# --- the slurm plugin's own decisions (its modules partitions and accounts) ---------------------------
# Imported inside each function, never above: planning a run under another executor loads none of them.

# The plugin's functions log as they decide ("Auto-selected partition ...", "Guessed SLURM account");
# it says so again when it submits, so asking them beforehand stays silent: a logger outside logging's
# tree (nothing to configure, nothing changed at import) that lets no record through.
SILENT = logging.Logger("digitstudy.asked_slurm_plugin", logging.CRITICAL + 1)


def slurm_job_gpus(job):
    """The GPUs the plugin asks for on behalf of a job or group job (its `gpu`, else its `gres`)."""
    from snakemake_executor_plugin_slurm.partitions import parse_gpu_requirements

    warn_on_other_version()
    gpus, _ = parse_gpu_requirements(job)
    return gpus


def slurm_job_cpus(job):
    """(cpus, per): the plugin's --cpus-per-task (per 'task'), or its --cpus-per-gpu (per 'gpu')."""
    from snakemake_executor_plugin_slurm.partitions import get_job_cpu_requirement

    warn_on_other_version()
    return get_job_cpu_requirement(job)


def slurm_partition_file(path):
    """The partitions of a partition file (--slurm-partition-config), as the plugin reads it."""
    from snakemake_executor_plugin_slurm.partitions import read_partition_file

    warn_on_other_version()
    return read_partition_file(Path(path))


def slurm_best_partition(partitions, job):
    """The name of the partition of slurm_partition_file() that the plugin picks for `job`; None when
    none fits (the plugin then submits to the default partition)."""
    from snakemake_executor_plugin_slurm.partitions import get_best_partition

    warn_on_other_version()
    return get_best_partition(partitions, job, SILENT)


def slurm_default_partition():
    """The cluster's default partition as the plugin finds it (sinfo); '' when there is none. Raises
    WorkflowError or OSError where sinfo fails or is missing."""
    from snakemake_executor_plugin_slurm.partitions import get_default_partition

    warn_on_other_version()
    return get_default_partition(None, SILENT)


def slurm_account_guess():
    """The account the plugin guesses (sacct) for a job that names none; None or '' for none. Raises
    OSError where sacct is missing."""
    from snakemake_executor_plugin_slurm.accounts import get_account

    warn_on_other_version()
    return get_account(SILENT)


def scontrol_partitions(shown):
    """{name: {field: value}} of `scontrol show partition`'s output, read by the plugin's parser."""
    from snakemake_executor_plugin_slurm.partitions import parse_scontrol_partition_output

    warn_on_other_version()
    return parse_scontrol_partition_output(shown)


# --- the report app (the React app of `snakemake --report`'s report.html) -------------------------------

# Globals the report's scripts declare: the app component, every item by its path, and the class
# whose handleSelectedResult(path) shows an item (figure or page) as the view button of the menu does.
REPORT_APP_GLOBALS = ("app", "results", "ToggleViewManager")
# Tailwind classes the app gives its content area (h-screen, items-center: centred vertically) and the
# column of the start page's text (prose, max-w-lg), each pair on one element.
REPORT_APP_CLASSES = (("h-screen", "items-center"), ("prose", "max-w-lg"))

# In report.html, once: open an item that a link of the start page or a message of an item names, as
# the view button of the report's menu does; the side bar stays as it is. A script inside the start page
# would not run (React sets it as innerHTML), so an image's onload runs it (reportpage.landing_html);
# `window.` since an inline handler's own scope is the image's. Where a global is missing, it does nothing.
REPORT_OPEN_ITEM_SCRIPT = """if (!window.reportItemLinks && typeof app === "object" && typeof results === "object"
    && typeof ToggleViewManager === "function") {
  window.reportItemLinks = true;
  const openItem = path => {
    if (typeof path !== "string" || !Object.hasOwn(results, path)) return;
    new ToggleViewManager(app).handleSelectedResult(path);
  };
  window.addEventListener("message", event => openItem(event.data && event.data.reportItem));
  document.addEventListener("click", event => {
    const link = event.target.closest("#app a[data-report-item]");
    if (link) {
      event.preventDefault();
      openItem(link.dataset.reportItem);
    }
  });
}"""

# Snakemake centres its start page vertically: a page taller than the window would lose its top (the
# title, the findings) above the window, where no scrolling reaches. Start it at the top. It also keeps
# the start page's text in a narrow column (Tailwind's max-w-lg) beside the rule graph, where the
# summary's tables wrap every cell: let the text take the width the rule graph leaves, and the tables
# all of it.
REPORT_START_PAGE_STYLE = """<style>
#app .h-screen.items-center { align-items: flex-start; }
#app div:has(> .prose.max-w-lg) { flex: 1 1 0; width: 0; min-width: 0; overflow-x: auto; }
#app .prose.max-w-lg { max-width: none; }
#app .prose.max-w-lg table { width: 100%; }
</style>"""


# --- the .snakemake folder -----------------------------------------------------------------------------

# Where a running Snakemake keeps its lock files (<n>.input.lock, <n>.output.lock) until it ends.
LOCKS = ".snakemake/locks"


def lock_time(folder):
    """When the Snakemake now working in this folder started (its lock files), or None."""
    warn_on_other_version()
    locks = list((Path(folder) / LOCKS).glob("*.lock"))
    return min(path.stat().st_mtime for path in locks) if locks else None


def remove_locks(folder):
    """Remove the lock files of a Snakemake that was killed in this folder, as `snakemake --unlock` does."""
    warn_on_other_version()
    for path in (Path(folder) / LOCKS).glob("*.lock"):
        path.unlink()
