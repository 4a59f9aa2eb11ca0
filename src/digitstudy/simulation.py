"""Whole confirmation studies simulated without training, to measure what sequential.py promises: how
often it declares a false 'better' or a false 'equal', how often its final intervals all hold the true
differences, its power, and how many replicates it spends.

The model of one simulated study (a Gaussian copula, so that each run's expected error is exact):
the N test images are drawn anew per study; image j has a difficulty z_j ~ N(0, 1) shared by all
models and y_mj ~ N(0, 1) of model m's own. Run i of model m has the latent error
e_mi = clip(e_m + sigma * eps_mi, 0.001, 0.999), eps normal or heavy-tailed (Student t with 3 df,
scaled to unit variance), and gets image j wrong iff

    sqrt(rho) z_j + sqrt(tau) y_mj + sqrt(1 - rho - tau) w_mij > Phi^-1(1 - e_mi),  w_mij ~ N(0, 1) fresh,

whose left side is N(0, 1), so the run's expected error over images is e_mi. Model m's true mean error
E[e_mi] is computed exactly, clip included (scipy's numerical integration), and e_m is solved so that
the true errors are base, base + d, base + 2d, ...: the true differences are exact multiples of d.

The parameters (Scenario), and why:
- N = 1000 images at a base error of 10%: about 100 wrong images per run, as MNIST's 10,000 test
  images at its 1.2% (the images' part of the standard error rests on how many images the models get
  wrong, so it is their count that should match). Traded: ten times fewer images than MNIST keep
  10^4 studies per case to seconds; the rates and delta are scaled up to match instead.
- rho = 0.60, tau = 0.35: two models share about 40% of their wrong images (P(both wrong) 0.039 at
  10% each), two runs of one model about 77%; the remaining 5% of the latent variance is run-to-run
  noise on each image.
- sigma = 0.008: with it the paired difference of two models' errors has an sd of about 0.013 over
  replicates, three quarters of its variance from the runs' latent errors (so that heavy-tailed run
  noise matters), against an images' part of the standard error of about 0.009: a ratio of 1.4. In
  MNIST's full study the cnn's replicates spread by 0.06 points (docs/methods.md), a paired sd of
  roughly 0.08 points, against an images' part near 0.06 points for models that disagree on about
  1% of 10,000 images (estimated): a ratio of the same size.
- delta = 0.05: 5.5 times the images' part of the standard error (MNIST's 0.5 points are about 8
  times it): a little harder than MNIST, so that the later looks have work to do.

Rounds run as the workflow runs them: `first` replicates per model, then `step` more for the models
with an undecided pair, up to `maximum`, generating only the replicates the active models need. Many
studies go at once (numpy, one seeded Generator; float32 for the images' latent values, whose rounding
moves a probability by under 1e-6), judged with sequential.py's own functions on sufficient statistics
(integer per-replicate differences of error counts and per-image sums over replicates), which
tests/test_simulation.py checks against sequential.task_decisions study by study.
"""

import functools
import itertools
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from .sequential import (
    A_BETTER,
    B_BETTER,
    EQUAL,
    NOT_DECIDED,
    OPEN,
    critical_values,
    decide,
    estimate_from_sums,
    interval_bounds,
    looks,
)


NOISES = ("normal", "heavy")
LOW_LATENT, HIGH_LATENT = 0.001, 0.999  # a run's latent error stays a probability away from 0 and 1
HEAVY_DF = 3  # Student t with 3 df: the heaviest tails that still have a variance


@dataclass(frozen=True)
class Scenario:
    """What every simulated study of a case shares (module docstring: the values and why)."""

    images: int = 1000
    base_error: float = 0.10
    rho: float = 0.60  # share of the latent variance in the difficulty all models share
    tau: float = 0.35  # share in each model's own difficulty
    sigma: float = 0.008  # sd of a run's latent error around its model's
    delta: float = 0.05
    first: int = 5
    step: int = 5
    maximum: int = 20
    alpha: float = 0.05

    def __post_init__(self):
        if not (self.rho >= 0 and self.tau >= 0 and self.rho + self.tau < 1):
            raise ValueError(f"Scenario: need rho, tau >= 0 and rho + tau < 1, got rho={self.rho}, tau={self.tau}")


@dataclass(frozen=True)
class Case:
    """One simulated setting: neighbouring models' true errors differ by `difference` deltas."""

    difference: float
    models: int = 2
    noise: str = "normal"

    def __post_init__(self):
        if self.models < 2 or self.noise not in NOISES:
            raise ValueError(f"Case: need models >= 2 and noise in {NOISES}, got {self.models} and {self.noise!r}")


# --- the models' true errors ---------------------------------------------------------------------


def run_distribution(noise: str, loc: float = 0.0, sd: float = 1.0):
    """loc + sd * eps as a scipy distribution, eps of unit variance: normal, or heavy-tailed (Student t
    with 3 df, scaled by sqrt(1/3))."""
    if noise not in NOISES:
        raise ValueError(f"simulation: noise must be one of {NOISES}, got {noise!r}")
    if noise == "normal":
        return stats.norm(loc, sd)
    return stats.t(HEAVY_DF, loc=loc, scale=sd * np.sqrt((HEAVY_DF - 2) / HEAVY_DF))


def expected_error(latent: float, sigma: float, noise: str) -> float:
    """E[clip(latent + sigma * eps, 0.001, 0.999)]: a model's true mean error, by numerical integration."""
    error = run_distribution(noise, latent, sigma)
    inside = error.expect(lambda x: x, lb=LOW_LATENT, ub=HIGH_LATENT, epsabs=1e-13, epsrel=1e-12)
    return float(LOW_LATENT * error.cdf(LOW_LATENT) + HIGH_LATENT * error.sf(HIGH_LATENT) + inside)


@functools.cache
def latent_error(mean_error: float, sigma: float, noise: str) -> float:
    """The e_m whose runs have the given true mean error (the clip moves it slightly off e_m). Cached:
    every chunk of a case asks for the same."""
    if not LOW_LATENT < mean_error < HIGH_LATENT:
        raise ValueError(f"simulation: a mean error must lie in ({LOW_LATENT}, {HIGH_LATENT}), got {mean_error}")
    return optimize.brentq(
        lambda e: expected_error(e, sigma, noise) - mean_error, -1, 2, xtol=1e-14, rtol=4 * np.finfo(float).eps
    )


def true_errors(scenario: Scenario, case: Case) -> np.ndarray:
    """The models' true mean errors: base, base + d, base + 2d, ... (d = difference * delta)."""
    return scenario.base_error + np.arange(case.models) * case.difference * scenario.delta


# --- drawing images and runs -----------------------------------------------------------------------


def draw_difficulty(rng, scenario: Scenario, studies: int, models: int) -> np.ndarray:
    """(sqrt(rho) z_j + sqrt(tau) y_mj) / sqrt(1 - rho - tau) of each study's fresh test images (studies x
    models x images, float32): the latent difficulty in units of the run-to-run noise w, so that a run's
    draw needs no scaling (the draws of w are most of the simulator's time)."""
    scale = np.sqrt(1 - scenario.rho - scenario.tau)
    shared = rng.standard_normal((studies, 1, scenario.images), dtype=np.float32)
    own = rng.standard_normal((studies, models, scenario.images), dtype=np.float32)
    return np.float32(np.sqrt(scenario.rho) / scale) * shared + np.float32(np.sqrt(scenario.tau) / scale) * own


def draw_runs(rng, scenario: Scenario, difficulty, latent, count: int, noise: str) -> np.ndarray:
    """Which images each of `count` new runs gets wrong (rows x count x images, bool), for rows of
    (a study's image difficulties for one model, from draw_difficulty; that model's e_m)."""
    eps = run_distribution(noise).rvs(size=(len(latent), count), random_state=rng)
    errors = np.clip(latent[:, None] + scenario.sigma * eps, LOW_LATENT, HIGH_LATENT)
    thresholds = (stats.norm.isf(errors) / np.sqrt(1 - scenario.rho - scenario.tau)).astype(np.float32)
    values = rng.standard_normal((len(latent), count, scenario.images), dtype=np.float32)
    values += difficulty[:, None, :]
    return values > thresholds[:, :, None]


# --- the rounds, many studies at once --------------------------------------------------------------


def new_outcome(studies: int, pairs: int, models: int) -> dict:
    """Every pair open, nothing run yet."""
    numbers = {key: np.full((studies, pairs), np.nan) for key in ("mean", "se", "low", "high")}
    return {
        "verdict": np.full((studies, pairs), OPEN, dtype=np.int8),
        "look": np.zeros((studies, pairs), dtype=np.int8),
        "replicates": np.zeros((studies, models), dtype=np.int16),
        **numbers,
    }


def active_models(verdicts: np.ndarray, pairs: list, models: int) -> np.ndarray:
    """(studies x models) True where the model has a pair still open."""
    active = np.zeros((len(verdicts), models), dtype=bool)
    for index, (a, b) in enumerate(pairs):
        still_open = verdicts[:, index] == OPEN
        active[:, a] |= still_open
        active[:, b] |= still_open
    return active


def judge_pairs(outcome: dict, pairs: list, runs: dict, look: int, n: int, critical_z: float, scenario) -> None:
    """Judges every open pair on its first n replicates (the look is 0-based); the last look closes all."""
    last = n == scenario.maximum
    for index, (a, b) in enumerate(pairs):
        rows = np.flatnonzero(outcome["verdict"][:, index] == OPEN)
        differences = runs["errors"][rows, a, :n] - runs["errors"][rows, b, :n]
        columns = runs["counts"][rows, a] - runs["counts"][rows, b]
        sums = ((differences**2).sum(axis=1), (columns**2).sum(axis=1))
        estimate = estimate_from_sums(n, scenario.images, differences.sum(axis=1), *sums)
        low, high = interval_bounds(estimate["mean"], estimate["se"], estimate["df"], critical_z)
        codes = decide(low, high, scenario.delta)
        if last:
            codes[codes == OPEN] = NOT_DECIDED
        outcome["verdict"][rows, index], outcome["look"][rows, index] = codes, look + 1
        for key, values in (("mean", estimate["mean"]), ("se", estimate["se"]), ("low", low), ("high", high)):
            outcome[key][rows, index] = values


def simulate_studies(rng, scenario: Scenario, case: Case, studies: int, keep: bool = False) -> dict:
    """One chunk of simulated studies run round by round: each pair's verdict, look, mean, se, low and
    high, and each model's replicates. keep: also every run's wrong images (studies x models x maximum
    x images, bool; rows past a model's replicates are False), to replay with task_decisions."""
    pairs = list(itertools.combinations(range(case.models), 2))
    latent = np.array([latent_error(error, scenario.sigma, case.noise) for error in true_errors(scenario, case)])
    critical = critical_values(scenario.first, scenario.step, scenario.maximum, scenario.alpha, len(pairs))
    difficulty = draw_difficulty(rng, scenario, studies, case.models)
    runs = {
        "errors": np.zeros((studies, case.models, scenario.maximum), dtype=np.int64),
        "counts": np.zeros((studies, case.models, scenario.images), dtype=np.int64),
    }
    outcome = new_outcome(studies, len(pairs), case.models)
    kept = np.zeros((studies, case.models, scenario.maximum, scenario.images), dtype=bool) if keep else None
    done = 0
    for look, n in enumerate(looks(scenario.first, scenario.step, scenario.maximum)):
        study, model = np.nonzero(active_models(outcome["verdict"], pairs, case.models))
        wrong = draw_runs(rng, scenario, difficulty[study, model], latent[model], n - done, case.noise)
        runs["errors"][study, model, done:n] = wrong.sum(axis=2)
        runs["counts"][study, model] += wrong.sum(axis=1)
        outcome["replicates"][study, model] = n
        if keep:
            kept[study, model, done:n] = wrong
        judge_pairs(outcome, pairs, runs, look, n, critical[look], scenario)
        done = n
    return {**outcome, "pairs": pairs, "wrong": kept}


# --- what a case measures --------------------------------------------------------------------------


def pair_truths(scenario: Scenario, case: Case, pairs: list) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's true difference of mean errors (a - b, a fraction) and the same in deltas (exact)."""
    errors = true_errors(scenario, case)
    in_deltas = np.array([(a - b) * case.difference for a, b in pairs], dtype=float)
    return np.array([errors[a] - errors[b] for a, b in pairs]), in_deltas


def outcome_counts(outcome: dict, scenario: Scenario, case: Case) -> dict:
    """Counts over a chunk's studies: familywise errors (any pair), joint coverage (every pair), each
    kind of verdict over all pairs, and the replicates spent."""
    truth, in_deltas = pair_truths(scenario, case, outcome["pairs"])
    verdict = outcome["verdict"]
    wrong_better = ((verdict == A_BETTER) & (in_deltas >= 0)) | ((verdict == B_BETTER) & (in_deltas <= 0))
    right_better = ((verdict == A_BETTER) & (in_deltas < 0)) | ((verdict == B_BETTER) & (in_deltas > 0))
    covered = (outcome["low"] <= truth) & (truth <= outcome["high"])
    return {
        "studies": len(verdict),
        "pairs": verdict.size,
        "false_better": int(wrong_better.any(axis=1).sum()),
        "false_equal": int(((verdict == EQUAL) & (np.abs(in_deltas) >= 1)).any(axis=1).sum()),
        "covered": int(covered.all(axis=1).sum()),
        "better": int(((verdict == A_BETTER) | (verdict == B_BETTER)).sum()),
        "right_better": int(right_better.sum()),
        "equal": int((verdict == EQUAL).sum()),
        "not_decided": int((verdict == NOT_DECIDED).sum()),
        "replicates": int(outcome["replicates"].sum()),
        "models": int(outcome["replicates"].size),
    }


def rates(counts: dict, case: Case) -> dict:
    """Rates of summed counts: familywise ones per study, verdicts per pair, replicates per model;
    power is a right 'better' where the models differ and 'equal' where they do not."""
    studies, pairs = counts["studies"], counts["pairs"]
    power = counts["right_better"] if case.difference else counts["equal"]
    return {
        "studies": studies,
        "false_better": counts["false_better"] / studies,
        "false_equal": counts["false_equal"] / studies,
        "coverage": counts["covered"] / studies,
        "better": counts["better"] / pairs,
        "equal": counts["equal"] / pairs,
        "not_decided": counts["not_decided"] / pairs,
        "power": power / pairs,
        "replicates": counts["replicates"] / counts["models"],
    }


def simulate(scenario: Scenario, case: Case, studies: int, seed: int, chunk: int = 1000) -> dict:
    """The rates of a case over `studies` simulated studies, run `chunk` at a time from one seeded
    generator (the same seed and chunk give the same numbers)."""
    rng = np.random.default_rng(seed)
    totals = {}
    for start in range(0, studies, chunk):
        outcome = simulate_studies(rng, scenario, case, min(chunk, studies - start))
        for key, value in outcome_counts(outcome, scenario, case).items():
            totals[key] = totals.get(key, 0) + value
    return rates(totals, case)
