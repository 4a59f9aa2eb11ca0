"""What a job of each kind costs before it does its work: a fresh Python that loads what the rule's
script loads, as a ratio to a bare `python -c pass` measured in the same run.

Every job of a script rule starts a new Python. It runs Snakemake's preamble (which unpickles the job's
`snakemake` object: snakemake.iocontainers, snakemake.logging, snakemake.shell) and then the script's
own imports (the script's top-level `import` and `from ... import` lines, read from the script), before
its first line of work. This benchmark times exactly that, per rule script, `--repeats` times each,
alternating the scripts so that a change in the machine's load touches all of them alike, and prints
a Markdown table of medians:

  start-up s        median wall seconds of the fresh Python with the script's imports
  x bare python     that, as a ratio to `python -c pass` (the reference, measured the same way)
  loads             which of the heavy libraries the imports load (torch, scipy, pandas, matplotlib,
                    h5py; torch._dynamo and torchvision, which no job should load)

Some libraries load on first use, not at import: torch.optim imports torch._dynamo (the compiler) on
an optimizer's first step, seconds of start-up that the study's own SGD (digitstudy.sgd) avoids. Two
more rows time a training job's start-up through its first step, with each optimizer; and
tests/test_sgd.py checks that training, prediction and weight-picture jobs load neither
torch._dynamo nor torchvision.

With `--study FOLDER` (a finished study) it also counts that study's jobs per rule from its logs and
gives the start-up seconds they cost in all. Run from the repository root with the project's
virtualenv (about a minute):

    python bench/startup.py [--repeats 5] [--study PATH]
"""

import argparse
import ast
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from arguments import positive_int  # bench/arguments.py, beside this script
from digitstudy.tables import table_markdown


SCRIPTS = Path(__file__).resolve().parent.parent / "workflow" / "scripts"
# What Snakemake's preamble imports in every script job (snakemake/script/__init__.py, 9.27).
PREAMBLE = "import pickle, snakemake.iocontainers, snakemake.logging, snakemake.shell"
HEAVY = ("torch", "scipy", "pandas", "matplotlib", "h5py", "torch._dynamo", "torchvision")
# Imports made on first use, not at the top of a script: a training job's first SGD step, and that step
# through torch.optim.SGD (which imports torch._dynamo, the compiler, on its first step; the study
# trained with it before version 5.2.0), for the ratio between them.
FIRST_STEP = """
import torch, torch.nn.functional as F
from digitstudy.models import build_model
model = build_model("cnn", (1, 28, 28), 10)
optimizer = {optimizer}(model.parameters(), lr=0.01, momentum=0.9)
F.cross_entropy(model(torch.zeros(32, 1, 28, 28)), torch.zeros(32, dtype=torch.int64)).backward()
optimizer.step()
"""
FIRST_USE = {
    "train_run to its first step": ("from digitstudy.sgd import MomentumSGD", "MomentumSGD"),
    "the same, through torch.optim.SGD": ("import torch.optim", "torch.optim.SGD"),
}
REFERENCE = "bare python"
# How Snakemake's log announces a job: "rule train_run:", "localcheckpoint decide_round:", ...
JOB_WORDS = ("rule", "localrule", "checkpoint", "localcheckpoint")


def script_imports(path):
    """The script's top-level import statements, as source lines."""
    tree = ast.parse(Path(path).read_text())
    statements = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return [ast.unparse(node) for node in statements]


def probe_code(imports, work=""):
    """A program that runs the preamble, `imports` and `work`, then prints which heavy libraries they
    loaded."""
    loaded = f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    return "\n".join([PREAMBLE, *imports, work, "import sys", loaded])


def timed(code):
    """(wall seconds, stdout) of a fresh Python running `code`."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout.strip()


def job_kinds():
    """{kind: program}: the reference, then one per rule script."""
    kinds = {REFERENCE: "pass"}
    for path in sorted(SCRIPTS.glob("*.py")):
        kinds[path.stem] = probe_code(script_imports(path))
    for kind, (optimizer_import, optimizer) in FIRST_USE.items():
        imports = [*script_imports(SCRIPTS / "train_run.py"), optimizer_import]
        kinds[kind] = probe_code(imports, FIRST_STEP.format(optimizer=optimizer))
    return kinds


def measure(kinds, repeats):
    """{kind: (median seconds, heavy libraries loaded)}, each kind timed `repeats` times in turn."""
    seconds = {kind: [] for kind in kinds}
    loads = {}
    for _ in range(repeats):
        for kind, code in kinds.items():
            wall, loaded = timed(code)
            seconds[kind].append(wall)
            loads[kind] = loaded
    return {kind: (statistics.median(values), loads[kind]) for kind, values in seconds.items()}


def jobs_per_rule(study):
    """{rule: jobs} of a finished study, from the jobs its Snakemake logs announce; None without a study."""
    if study is None:
        return None
    counts = {}
    for log in (Path(study) / ".snakemake" / "log").glob("*.snakemake.log"):
        for line in log.read_text().splitlines():
            words = line.split()
            if len(words) == 2 and words[0] in JOB_WORDS and words[1].endswith(":"):
                rule = words[1].rstrip(":")
                counts[rule] = counts.get(rule, 0) + 1
    return counts


def table(measured, jobs):
    reference = measured[REFERENCE][0]
    rows = []
    for kind, (seconds, loads) in measured.items():
        row = {"job kind": kind, "start-up s": round(seconds, 2), "x bare python": round(seconds / reference, 1)}
        row["loads"] = loads or "-"
        if jobs is not None and kind != REFERENCE and kind not in FIRST_USE:
            row["jobs"] = jobs.get(kind, 0)
            row["start-up s in all"] = round(row["jobs"] * seconds, 1)
        rows.append(row)
    return pd.DataFrame(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--repeats", type=positive_int, default=5)
    parser.add_argument("--study", help="a finished study's folder: count its jobs per rule")
    given = parser.parse_args()
    measured = measure(job_kinds(), given.repeats)
    shown = table(measured, jobs_per_rule(given.study))
    note = f"Medians of {given.repeats} starts each; the reference is `python -c pass`."
    print(table_markdown(shown, "Start-up of a job, per kind", note))
    if given.study:
        print(f"\nstart-up of every script job of the study: {shown['start-up s in all'].sum():.0f} s")


if __name__ == "__main__":
    main()
