"""The simulator against closed forms and scipy, its vectorised decisions against task_decisions study by
study, and the proof: over 10^4 simulated studies per case, the error rates and the joint coverage that
sequential.py promises, for one and three pairs, normal and heavy-tailed run noise.

What was traded for speed (about 40 s on one core): 1000 test images per study, not MNIST's 10,000, with
the error rates and delta scaled up to keep about as many wrong images per run and the same ratios of
the spreads to delta (simulation.py says which values and why); only the true differences 0 and delta
are checked here (bench/decisions.py runs delta/2 and 2 delta too); 10^4 studies bound a rate of 0.05
to within about 0.0065 (3 Monte Carlo sds)."""

import math

import numpy as np
import pytest
from scipy import stats

from digitstudy.sequential import VERDICTS, looks, task_decisions
from digitstudy.simulation import (
    Case,
    Scenario,
    draw_difficulty,
    draw_runs,
    expected_error,
    latent_error,
    simulate,
    simulate_studies,
    true_errors,
)


SCENARIO = Scenario()
STUDIES = 10_000
ALPHA = SCENARIO.alpha
TOLERANCE = 3 * math.sqrt(ALPHA * (1 - ALPHA) / STUDIES)  # 0.0065


def clipped_normal_mean(mu, sigma, low=0.001, high=0.999):
    """E[clip(X, low, high)] of X ~ N(mu, sigma^2) in closed form: low P(X < low) + high P(X > high) +
    mu (Phi(b) - Phi(a)) + sigma (phi(a) - phi(b)), a and b the bounds standardised."""
    a, b = (low - mu) / sigma, (high - mu) / sigma
    norm = stats.norm
    return (
        low * norm.cdf(a) + high * norm.sf(b) + mu * (norm.cdf(b) - norm.cdf(a)) + sigma * (norm.pdf(a) - norm.pdf(b))
    )


def test_true_errors_are_exact_with_the_clip():
    # A spread that the clip at 0.001 cuts hard: latent 0.005, sigma 0.01 (P(latent + sigma eps < 0.001) = 0.34)
    assert expected_error(0.005, 0.01, "normal") == pytest.approx(clipped_normal_mean(0.005, 0.01), abs=1e-12)
    assert clipped_normal_mean(0.005, 0.01) - 0.005 > 0.001
    # Heavy tails: against 10^6 draws of t(3)/sqrt(3) (Monte Carlo sd of the mean about 0.0000075)
    rng = np.random.default_rng(8)
    draws = np.clip(0.005 + 0.01 * rng.standard_t(3, 1_000_000) / math.sqrt(3), 0.001, 0.999)
    assert expected_error(0.005, 0.01, "heavy") == pytest.approx(draws.mean(), abs=3e-5)
    # latent_error inverts it, so the true errors are what true_errors says, exactly
    sigma = SCENARIO.sigma
    for noise in ("normal", "heavy"):
        for error in true_errors(SCENARIO, Case(1, models=3, noise=noise)):
            assert expected_error(latent_error(error, sigma, noise), sigma, noise) == pytest.approx(error, abs=1e-13)
    assert list(true_errors(SCENARIO, Case(0.5, models=3))) == pytest.approx([0.1, 0.125, 0.15], abs=1e-15)


def test_a_run_gets_its_latent_error_and_models_share_hard_images():
    # sigma = 0: every run of a model has the latent error 0.1, so P(wrong) = 0.1 per image. Two models'
    # latent values correlate by rho = 0.6, two runs of one model by rho + tau = 0.95: P(both wrong) is the
    # bivariate normal orthant beyond Phi^-1(0.9) = 1.281552 (scipy). The runs share the 20,000 images, so
    # a share's Monte Carlo sd is at most sqrt(P(two runs both wrong) / 20000) = sqrt(0.077/20000) = 0.002
    scenario = Scenario(images=20_000, sigma=0.0)
    rng = np.random.default_rng(9)
    difficulty = draw_difficulty(rng, scenario, 1, 2)[0]
    wrong = draw_runs(rng, scenario, difficulty, np.array([0.1, 0.1]), 2, "normal")
    assert wrong.mean() == pytest.approx(0.1, abs=0.006)
    q = stats.norm.isf(0.1)
    for correlation, both in ((0.6, wrong[0, 0] & wrong[1, 0]), (0.95, wrong[0, 0] & wrong[0, 1])):
        orthant = stats.multivariate_normal([0, 0], [[1, correlation], [correlation, 1]]).cdf([-q, -q])
        assert both.mean() == pytest.approx(orthant, abs=0.006)


@pytest.mark.parametrize("case", [Case(0.5, models=3, noise="heavy"), Case(0.5, models=2, noise="normal")])
def test_vectorised_decisions_are_those_of_task_decisions(case):
    # 200 studies: the vectorised rounds (on sums) and task_decisions (on each study's wrong images) give the
    # same verdict, look and interval for every pair, and each model ran exactly the replicates its pairs needed
    rng = np.random.default_rng(10)
    outcome = simulate_studies(rng, SCENARIO, case, 200, keep=True)
    plan = looks(SCENARIO.first, SCENARIO.step, SCENARIO.maximum)
    settings = (SCENARIO.first, SCENARIO.step, SCENARIO.maximum, SCENARIO.alpha, SCENARIO.delta)
    for study in range(200):
        counts = outcome["replicates"][study]
        wrong = {model: outcome["wrong"][study, model, : counts[model]] for model in range(case.models)}
        decided = task_decisions(wrong, *settings)
        for index, pair in enumerate(decided["pairs"]):
            assert pair["verdict"] == VERDICTS[outcome["verdict"][study, index]]
            assert (pair["look"], pair["low"], pair["high"]) == (
                outcome["look"][study, index],
                outcome["low"][study, index],
                outcome["high"][study, index],
            )
        assert decided["next"] == []
        for model in range(case.models):
            closing = [
                plan[pair["look"] - 1] for pair in decided["pairs"] if model in (pair["model_a"], pair["model_b"])
            ]
            assert counts[model] == max(closing)
            assert not outcome["wrong"][study, model, counts[model] :].any()
    kinds = {VERDICTS[code] for code in outcome["verdict"].ravel()}
    assert len(kinds) >= 2, kinds  # the cases were chosen to give more than one kind of verdict


@pytest.mark.parametrize(
    "make",
    [lambda: Scenario(rho=0.7, tau=0.3), lambda: Scenario(tau=-0.1), lambda: Case(1, 1), lambda: Case(1, 2, "t")],
)
def test_impossible_scenarios_and_cases_are_refused(make):
    with pytest.raises(ValueError):
        make()


def test_simulate_is_seeded():
    case = Case(0.5, models=2, noise="heavy")
    assert simulate(SCENARIO, case, 300, seed=1, chunk=100) == simulate(SCENARIO, case, 300, seed=1, chunk=100)
    assert simulate(SCENARIO, case, 300, seed=1, chunk=100) != simulate(SCENARIO, case, 300, seed=2, chunk=100)


CASES = [
    (Case(difference, models, noise), seed)
    for seed, (difference, models, noise) in enumerate(
        (difference, models, noise) for difference in (0, 1) for models in (2, 3) for noise in ("normal", "heavy")
    )
]


@pytest.mark.parametrize("case, seed", CASES, ids=lambda value: str(value))
def test_error_rates_and_joint_coverage_hold(case, seed):
    # Familywise over the task's pairs and all looks, each rate within 3 Monte Carlo sds of its bound
    result = simulate(SCENARIO, case, STUDIES, seed=100 + seed)
    assert result["studies"] == STUDIES
    if case.difference == 0:
        assert result["false_better"] <= ALPHA + TOLERANCE, result  # any 'better' between equal models
    else:
        assert result["false_equal"] <= ALPHA + TOLERANCE, result  # 'equal' where they differ by delta or more
        assert result["false_better"] <= ALPHA + TOLERANCE, result  # the wrong one called better
    assert result["coverage"] >= 1 - ALPHA - TOLERANCE, result
