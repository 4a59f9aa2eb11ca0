"""Each stage's version (src/digitstudy/versions.py) changes with what the stage makes, and only then:
a tiny pinned run per stage (tests/results_pins.py) must give the numbers pinned for its version."""

import re

import pytest

from digitstudy.versions import RESULTS_VERSIONS, RULE_STAGES
from helpers import REPO
from results_pins import STAGE_NUMBERS, TOLERANCES, pin_problem, read_pins, stage_numbers


@pytest.mark.parametrize("stage", list(RESULTS_VERSIONS))
def test_a_stage_whose_results_changed_has_a_new_version(stage):
    problem = pin_problem(stage, read_pins(), stage_numbers(stage))
    if problem:
        pytest.fail(problem, pytrace=False)


def test_every_stage_has_its_pinned_work():
    assert set(STAGE_NUMBERS) == set(RESULTS_VERSIONS)
    assert set(RULE_STAGES.values()) <= set(RESULTS_VERSIONS)


def scripted_rules():
    """The rules and checkpoints of workflow/rules/*.smk that run a script: the aggregate-only rules
    (all, train_all) run none, and make nothing a version could name."""
    rules = set()
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        for header in re.finditer(r"^(?:rule|checkpoint) (\w+):\n((?:[ \t]+.*\n|\n)*)", path.read_text(), re.M):
            if re.search(r"^\s+script:", header.group(2), re.M):
                rules.add(header.group(1))
    return rules


def test_every_rule_that_runs_a_script_has_a_stage():
    rules = scripted_rules()
    assert {"train_run", "decide_round", "plot_curves"} <= rules  # the parsing finds rules and checkpoints
    assert rules - set(RULE_STAGES) == set(), "rules without a stage in RULE_STAGES"
    assert set(RULE_STAGES) - rules == set(), "RULE_STAGES names rules that run no script"


# --- the guard itself, on pins made here -------------------------------------------------------------

PINNED = {"test loss": 0.5, "weights layout": "1.weight:100x256", "epochs_completed": 2}


def pins_of(stage, version, numbers=PINNED):
    return {stage: {"version": version, "numbers": dict(numbers)}}


def test_a_changed_number_under_an_unchanged_version_fails_naming_the_version_to_raise():
    version = RESULTS_VERSIONS["training"]
    problem = pin_problem("training", pins_of("training", version), {**PINNED, "test loss": 0.6})
    assert problem.startswith("the training stage's results changed (test loss: 0.5 -> 0.6) while")
    assert f"RESULTS_VERSIONS['training'] is still {version}: raise it to {version + 1} in" in problem
    assert "then run `python tests/results_pins.py training`" in problem


def test_a_number_gone_or_new_is_a_change_and_a_message_names_the_first_three():
    numbers = {"epochs_completed": 3, "new": 1, "test loss": 0.7}
    problem = pin_problem("data", pins_of("data", RESULTS_VERSIONS["data"]), numbers)
    assert "(epochs_completed: 2 -> 3; new: (none) -> 1; test loss: 0.5 -> 0.7; and 1 more)" in problem


def test_floats_compare_within_the_stage_tolerance_and_everything_else_exactly():
    version, relative = RESULTS_VERSIONS["training"], TOLERANCES["training"]["relative"]
    pins = pins_of("training", version)
    assert pin_problem("training", pins, {**PINNED, "test loss": 0.5 * (1 + relative / 2)}) is None
    assert pin_problem("training", pins, {**PINNED, "test loss": 0.5 * (1 + 2 * relative)}) is not None
    assert pin_problem("training", pins, {**PINNED, "epochs_completed": 2.0}) is None  # the same number
    assert pin_problem("training", pins, {**PINNED, "weights layout": "1.weight:100x257"}) is not None


def test_pins_of_another_version_ask_for_new_pins_whatever_the_numbers():
    version = RESULTS_VERSIONS["figures"]
    problem = pin_problem("figures", pins_of("figures", version - 1), PINNED)
    assert problem == (
        f"RESULTS_VERSIONS['figures'] is {version} but tests/pinned_results.json pins version {version - 1}: "
        f"run `python tests/results_pins.py figures` to pin the numbers of version {version}"
    )
