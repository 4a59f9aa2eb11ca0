"""How the confirmation stage's sequential decisions behave, measured on simulated studies.

What it measures: for every case (true difference of neighbouring models 0, delta/2, delta and
2 delta; one pair (2 models) or three pairs (3 models: errors base, base + d, base + 2d); normal or
heavy-tailed run noise), `--studies` simulated studies (digitstudy.simulation, default scenario: its
docstring gives the values and why), run round by round as the workflow runs them (first 5, step 5,
maximum 20, familywise alpha 0.05 per task). It prints a Markdown table:

  false better      share of studies with any pair called better where the models are equal, or the
                    worse one called better (familywise; the bound is alpha)
  false equal       share of studies with any pair called equal where |true difference| >= delta
  coverage          share of studies in which every pair's final interval holds its true difference
  P better, P equal, P not decided
                    shares of all pairs ending so (they add up to 1)
  replicates        mean replicates per model

Run from the repository root with the project's virtualenv (one to two minutes on one core):

    python bench/decisions.py [--studies 10000] [--seed 0]
"""

import argparse
import time

import pandas as pd

from arguments import positive_int  # bench/arguments.py, beside this script
from digitstudy.simulation import NOISES, Case, Scenario, simulate
from digitstudy.tables import table_markdown


DIFFERENCES = (0, 0.5, 1, 2)  # in deltas
MODELS = (2, 3)


def cases():
    """Every case, in the table's order."""
    return [Case(difference, models, noise) for difference in DIFFERENCES for models in MODELS for noise in NOISES]


def case_row(scenario, case, studies, seed):
    """One row of the table: what the case is and what its studies measured."""
    result = simulate(scenario, case, studies, seed)
    return {
        "true_d_in_deltas": case.difference,
        "pairs": case.models * (case.models - 1) // 2,
        "noise": case.noise,
        "false_better": result["false_better"],
        "false_equal": result["false_equal"],
        "coverage": result["coverage"],
        "P_better": result["better"],
        "P_equal": result["equal"],
        "P_not_decided": result["not_decided"],
        "replicates": result["replicates"],
    }


def decisions_table(scenario, studies, seed):
    """The table of every case, each from its own seed (seed + the case's index)."""
    return pd.DataFrame([case_row(scenario, case, studies, seed + index) for index, case in enumerate(cases())])


def scenario_note(scenario, studies):
    return (
        f"{studies} simulated studies per case; {scenario.images} test images, base error {scenario.base_error}, "
        f"rho {scenario.rho}, tau {scenario.tau}, sigma {scenario.sigma}, delta {scenario.delta}; "
        f"looks every {scenario.step} replicates from {scenario.first} to {scenario.maximum}, alpha {scenario.alpha}."
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=positive_int, default=10_000, help="simulated studies per case")
    parser.add_argument("--seed", type=int, default=0, help="the first case's seed; case i uses seed + i")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    scenario = Scenario()
    started = time.perf_counter()
    table = decisions_table(scenario, args.studies, args.seed)
    print(table_markdown(table, "Sequential decisions on simulated studies", scenario_note(scenario, args.studies)))
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
