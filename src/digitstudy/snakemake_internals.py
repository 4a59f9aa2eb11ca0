"""The one place that reads Snakemake's internals (attributes no documentation names).

No public call of Snakemake lists the group jobs of a run before they are scheduled, caps what a group
job asks for, or says which config files the command line gave; these do, through attributes of the
pinned Snakemake (WRITTEN_FOR) that may change in any release. Each use is named here, and another
Snakemake version is told in one line before the first use.
"""

import re
import sys

import snakemake


WRITTEN_FOR = "9.27"
WHAT_MAY_FAIL = (
    "the study record's config files (--configfile) and, under Slurm, the checks before the first sbatch "
    "(group sizes, jobs no node can run) may fail or be wrong; requirements.txt pins the Snakemake they "
    "were written for"
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
