"""Sequential decisions against published boundaries, scipy, Monte Carlo and cases computed by hand (the
computation beside each number)."""

import math

import numpy as np
import pytest
from scipy import stats

from digitstudy.sequential import (
    beats,
    critical_values,
    crossing_probability,
    looks,
    mean_error_interval,
    obrien_fleming,
    paired_estimate,
    pocock,
    repeated_interval,
    task_decisions,
    verdict,
)
from digitstudy.stats import clopper_pearson


@pytest.mark.parametrize(
    "first, step, maximum, expected",
    [(5, 5, 20, [5, 10, 15, 20]), (3, 5, 20, [3, 8, 13, 18, 20]), (2, 1, 3, [2, 3]), (4, 5, 4, [4]), (5, 5, 7, [5, 7])],
)
def test_looks(first, step, maximum, expected):
    assert looks(first, step, maximum) == expected


@pytest.mark.parametrize("first, step, maximum", [(1, 5, 20), (5, 0, 20), (5, 5, 4)])
def test_looks_refuses_impossible_plans(first, step, maximum):
    with pytest.raises(ValueError):
        looks(first, step, maximum)


# --- boundaries ----------------------------------------------------------------------------------

# Jennison & Turnbull (2000), Table 2.3 (O'Brien-Fleming C_B) and Table 2.1 (Pocock C_P): K equally
# spaced looks, two-sided alpha 0.05 and 0.01, to 3 decimals.
PUBLISHED = {
    (0.05, "obrien_fleming"): [1.960, 1.977, 2.004, 2.024, 2.040],
    (0.05, "pocock"): [1.960, 2.178, 2.289, 2.361, 2.413],
    (0.01, "obrien_fleming"): [2.576, 2.580, 2.595, 2.609, 2.621],
    (0.01, "pocock"): [2.576, 2.772, 2.873, 2.939, 2.986],
}


@pytest.mark.parametrize("alpha, kind", PUBLISHED)
def test_boundaries_give_the_published_constants(alpha, kind):
    for k, published in enumerate(PUBLISHED[alpha, kind], start=1):
        information = np.arange(1, k + 1)
        bounds = obrien_fleming(information, alpha) if kind == "obrien_fleming" else pocock(information, alpha)
        # The table's C is the last look's bound for O'Brien-Fleming (c_k = C sqrt(K / k)), every look's for Pocock
        assert bounds[-1] == pytest.approx(published, abs=5e-4)
        assert crossing_probability(bounds, information) == pytest.approx(alpha, abs=1e-9)
    assert obrien_fleming(np.arange(1, 5), alpha) * np.sqrt(np.arange(1, 5)) == pytest.approx(
        obrien_fleming(np.arange(1, 5), alpha)[-1] * 2
    )


def test_crossing_probability_of_one_look_is_the_normal_tail():
    # P(|Z| >= 1.959964) = 0.05; P(|Z| >= 2.575829) = 0.01
    assert crossing_probability([1.959964], [7]) == pytest.approx(0.05, abs=1e-6)
    assert crossing_probability([2.575829], [1]) == pytest.approx(0.01, abs=1e-6)


def bivariate_crossing(bounds, information):
    """1 - P(|Z_k| < bounds[k] for all k) from scipy's multivariate normal CDF: corr(Z_j, Z_k) = sqrt(I_j / I_k)."""
    information = np.asarray(information, dtype=float)
    covariance = np.sqrt(np.minimum.outer(information, information) / np.maximum.outer(information, information))
    normal = stats.multivariate_normal(np.zeros(len(bounds)), covariance, abseps=1e-7, releps=1e-7, maxpts=10**6)
    bounds = np.asarray(bounds, dtype=float)
    return 1 - normal.cdf(bounds, lower_limit=-bounds)


@pytest.mark.parametrize(
    "bounds, information",
    [([2.8, 1.98], [1, 2]), ([3.1, 2.4, 2.2], [3, 8, 13]), ([2.3, 2.3, 2.3], [1, 4, 5])],
)
def test_crossing_probability_agrees_with_scipy_multivariate_normal(bounds, information):
    assert crossing_probability(bounds, information) == pytest.approx(bivariate_crossing(bounds, information), abs=2e-6)


def test_crossing_probability_agrees_with_simulated_brownian_paths():
    # 10^6 seeded paths of S at the workflow's looks of (3, 5, 20); Z_k = S(I_k)/sqrt(I_k). The Monte Carlo sd
    # of a rate near 0.05 is sqrt(0.05 * 0.95 / 10^6) = 0.00022; allow 4 of them.
    information = np.array(looks(3, 5, 20), dtype=float)
    rng = np.random.default_rng(2024)
    steps = rng.standard_normal((1_000_000, len(information))) * np.sqrt(np.diff(information, prepend=0))
    z = np.cumsum(steps, axis=1) / np.sqrt(information)
    for bounds in (obrien_fleming(information, 0.05), np.array([3.0, 2.6, 2.4, 2.3, 2.2])):
        simulated = np.mean((np.abs(z) >= bounds).any(axis=1))
        assert crossing_probability(bounds, information) == pytest.approx(simulated, abs=4 * 0.00022)
    assert crossing_probability(obrien_fleming(information, 0.05), information) == pytest.approx(0.05, abs=1e-9)


def test_critical_values_are_obrien_fleming_at_alpha_over_the_pairs():
    # Three pairs: Bonferroni, each at 0.05/3; looks (5, 10, 15, 20) are equally spaced, so c_k = C sqrt(4/k)
    values = critical_values(5, 5, 20, 0.05, 3)
    assert isinstance(values, tuple) and len(values) == 4
    assert np.array(values) == pytest.approx(obrien_fleming([5, 10, 15, 20], 0.05 / 3), abs=1e-12)
    assert np.array(values) == pytest.approx(values[-1] * np.sqrt(4 / np.arange(1, 5)), rel=1e-12)
    assert crossing_probability(values, [5, 10, 15, 20]) == pytest.approx(0.05 / 3, abs=1e-9)
    # One pair at 0.05: C of K = 4 is 2.024 (the table above); the first look's bound is 2 C = 4.049
    assert critical_values(5, 5, 20, 0.05, 1)[0] == pytest.approx(4.0486, abs=1e-3)


@pytest.mark.parametrize(
    "call",
    [
        lambda: crossing_probability([2.0, 2.0], [1]),
        lambda: crossing_probability([2.0, 2.0], [2, 1]),
        lambda: crossing_probability([2.0, -1.0], [1, 2]),
        lambda: crossing_probability([2.0, math.inf], [1, 2]),
        lambda: obrien_fleming([1, 2], alpha=1.5),
        lambda: critical_values(5, 5, 20, 0.05, 0),
    ],
)
def test_boundaries_refuse_what_cannot_be_looks(call):
    with pytest.raises(ValueError):
        call()


# --- the paired estimate -------------------------------------------------------------------------


def test_paired_estimate_of_a_hand_case():
    # a - b per image:  replicate 0: [1, 0, 0, 0], replicate 1: [1, 1, 0, 0]; n = 2, N = 4
    # d_i = 1/4, 2/4: mean 0.375, s_r^2 = 2 * 0.125^2 / 1 = 0.03125, s_r^2/n = 0.015625 (se_replicates 0.125)
    # c_j = 1, 0.5, 0, 0: mean 0.375, deviations 0.625, 0.125, -0.375, -0.375, squares sum 0.6875,
    #   s_c^2 = 0.6875 / 3 = 0.2291667, s_c^2/N = 0.0572917 (se_images 0.2393568)
    # se^2 = 0.0729167, se = 0.2700309; df = se^4 / (0.015625^2 / 1 + 0.0572917^2 / 3) = 3.972973
    a = [[1, 0, 0, 1], [1, 1, 1, 0]]
    b = [[0, 0, 0, 1], [0, 0, 1, 0]]
    result = paired_estimate(np.array(a, dtype=bool), np.array(b, dtype=bool))
    assert (result["n"], result["images"], result["mean"]) == (2, 4, 0.375)
    assert result["se_replicates"] == pytest.approx(0.125, rel=1e-12)
    assert result["se_images"] == pytest.approx(math.sqrt(0.6875 / 3 / 4), rel=1e-12)
    assert result["se"] == pytest.approx(0.2700309, abs=1e-7)
    assert result["df"] == pytest.approx(0.0729167**2 / (0.015625**2 + 0.0572917**2 / 3), rel=1e-5)
    assert result["df"] == pytest.approx(3.972973, abs=1e-6)
    swapped = paired_estimate(b, a)
    assert (swapped["mean"], swapped["se"], swapped["df"]) == (-0.375, result["se"], result["df"])


def test_paired_estimate_by_the_formula_on_random_replicates():
    rng = np.random.default_rng(3)
    a, b = rng.random((7, 300)) < 0.12, rng.random((7, 300)) < 0.10
    differences = a.mean(axis=1) - b.mean(axis=1)
    columns = (a.astype(int) - b).mean(axis=0)
    part_r, part_c = differences.var(ddof=1) / 7, columns.var(ddof=1) / 300
    result = paired_estimate(a, b)
    assert result["mean"] == pytest.approx(differences.mean(), rel=1e-12)
    assert (result["se_replicates"], result["se_images"]) == (pytest.approx(part_r**0.5), pytest.approx(part_c**0.5))
    assert result["df"] == pytest.approx((part_r + part_c) ** 2 / (part_r**2 / 6 + part_c**2 / 299), rel=1e-9)


def test_images_part_is_the_bootstrap_over_test_images():
    # Resampling images (each draw applied to every replicate) has variance var(c_j, ddof=0) / N of the mean
    # difference; se_images^2 uses ddof=1, N/(N-1) = 1.004 larger. 20,000 draws estimate a variance to ~1%.
    rng = np.random.default_rng(5)
    a, b = rng.random((5, 250)) < 0.2, rng.random((5, 250)) < 0.15
    columns = (a.astype(int) - b).mean(axis=0)
    draws = rng.integers(0, 250, size=(20_000, 250))
    bootstrap = columns[draws].mean(axis=1).var()
    assert paired_estimate(a, b)["se_images"] ** 2 == pytest.approx(bootstrap * 250 / 249, rel=0.04)


def test_no_spread_is_floored_at_one_disagreeing_image():
    # Identical models, n = 3 replicates, N = 100 images: s_r^2 = 0 and every c_j = 0. The floor is what one
    # image wrong for one model in one replicate gives: c = -1/3 on one image, mean -1/300,
    # sum of squared deviations (99/300)^2 + 99 (1/300)^2 = 0.11, s_c^2 = 0.11/99 = 1/900 = 1/(n^2 N);
    # se = sqrt(1/900/100) = 1/300, df = N - 1 = 99
    rng = np.random.default_rng(1)
    a = rng.random((3, 100)) < 0.1
    same = paired_estimate(a, a)
    assert (same["mean"], same["se_replicates"]) == (0.0, 0.0)
    assert (same["se"], same["df"]) == (pytest.approx(1 / 300, rel=1e-12), pytest.approx(99.0))
    b = a.copy()
    b[1, np.flatnonzero(~a[1])[0]] = True
    assert paired_estimate(a, b)["se_images"] == pytest.approx(same["se_images"], rel=1e-12)
    # 0 +- t_0.975(99) / 300 = 0 +- 1.984217/300 = 0.0066141: equal within 1 point, not within half a point
    low, high = repeated_interval(same, stats.norm.isf(0.025))
    assert (low, high) == (pytest.approx(-0.0066141, abs=1e-7), pytest.approx(0.0066141, abs=1e-7))
    assert verdict(low, high, 0.01) == "equal" and verdict(low, high, 0.005) is None


def test_one_replicate_is_undecidable():
    result = paired_estimate([[1, 0, 1, 0]], [[0, 0, 1, 0]])
    assert (result["n"], result["mean"]) == (1, 0.25)
    assert result["se"] is result["df"] is result["se_replicates"] is None
    assert repeated_interval(result, 2.0) == (None, None) and verdict(None, None, 0.005) is None


@pytest.mark.parametrize(
    "a, b",
    [([[1, 0], [0, 1]], [[1, 0]]), ([1, 0, 1], [0, 0, 1]), ([[2, 0], [0, 1]], [[1, 0], [0, 1]]), ([[1]], [[0]])],
)
def test_paired_estimate_refuses_what_is_not_paired_correctness(a, b):
    with pytest.raises(ValueError):
        paired_estimate(a, b)


# --- intervals and verdicts ------------------------------------------------------------------------


def test_repeated_interval_turns_z_into_t_with_the_same_tail():
    # z = 1.959964 has two-sided tail 0.05; with df = 2, t_q = (2q - 1)/sqrt(2q(1 - q)), t_0.975 =
    # 0.95/sqrt(0.04875) = 4.302653: 0.01 -+ 4.302653 * 0.002 = (0.0013947, 0.0186053)
    estimate = {"mean": 0.01, "se": 0.002, "df": 2.0}
    low, high = repeated_interval(estimate, stats.norm.isf(0.025))
    assert (low, high) == (pytest.approx(0.01 - 0.0086053, abs=1e-7), pytest.approx(0.01 + 0.0086053, abs=1e-7))
    # A later look's bound, z = 2.862786 (two-sided tail 0.0042), at df 4 and at df 10^6 (t -> z)
    z = 2.862786
    half = stats.t.isf(stats.norm.sf(z), 4) * 0.002
    assert repeated_interval({**estimate, "df": 4.0}, z) == (pytest.approx(0.01 - half), pytest.approx(0.01 + half))
    assert repeated_interval({**estimate, "df": 1e6}, z)[1] == pytest.approx(0.01 + z * 0.002, rel=1e-5)
    # Clipped to the possible differences: 0.98 -+ t_0.975(3) * 0.1 = 0.98 -+ 0.3182446
    clipped = repeated_interval({"mean": 0.98, "se": 0.1, "df": 3.0}, stats.norm.isf(0.025))
    assert clipped == (pytest.approx(0.6617554, abs=1e-7), 1.0)
    assert all(isinstance(bound, float) for bound in repeated_interval(estimate, 2.0))


@pytest.mark.parametrize(
    "low, high, delta, expected",
    [
        (-0.02, -0.01, 0.005, "a"),  # lower error is better: a - b below 0
        (0.001, 0.003, 0.005, "b"),  # better is checked first, even inside the margin
        (-0.004, 0.004, 0.005, "equal"),
        (-0.006, 0.004, 0.005, None),
        (-0.005, 0.001, 0.005, None),  # the margin is open
        (-0.01, 0.0, 0.005, None),  # touching 0 is not excluding it
        (0.0, 0.0, 0.005, "equal"),
    ],
)
def test_verdict(low, high, delta, expected):
    assert verdict(low, high, delta) == expected


# --- a task's decisions --------------------------------------------------------------------------


def replicates(rng, base, n, images=1000, extra=0.02):
    """n replicates wrong on `base` (the images every run of a model gets wrong) and on a random 2% more."""
    wrong = rng.random((n, images)) < extra
    wrong[:, base] = True
    return wrong


def test_task_decisions_replays_the_looks():
    # x and y get the same images wrong (plus noise): equal; z is 10 points worse on 1000 images: both better
    rng = np.random.default_rng(11)
    easy, hard = np.arange(100), np.arange(200)
    wrong = {"x": replicates(rng, easy, 6), "y": replicates(rng, easy, 6), "z": replicates(rng, hard, 6)}
    decided = task_decisions(wrong, first=2, step=2, maximum=6, alpha=0.05, delta=0.02)
    assert [(pair["model_a"], pair["model_b"]) for pair in decided["pairs"]] == [("x", "y"), ("x", "z"), ("y", "z")]
    assert [pair["verdict"] for pair in decided["pairs"]] == ["equal", "a", "a"]
    assert (decided["next"], decided["replicates_next"]) == ([], None)
    critical = critical_values(2, 2, 6, 0.05, 3)
    for pair in decided["pairs"]:
        n = pair["replicates"]
        assert n == looks(2, 2, 6)[pair["look"] - 1] and pair["critical_z"] == critical[pair["look"] - 1]
        estimate = paired_estimate(wrong[pair["model_a"]][:n], wrong[pair["model_b"]][:n])
        assert {key: pair[key] for key in estimate if key not in ("n", "images")} == {
            key: value for key, value in estimate.items() if key not in ("n", "images")
        }
        assert (pair["low"], pair["high"]) == repeated_interval(estimate, pair["critical_z"])


def test_task_decisions_is_a_pure_replay_of_the_rounds_so_far():
    # Decisions from the first 2, 4 and 6 replicates: a pair decided early keeps its look and numbers
    rng = np.random.default_rng(12)
    wrong = {"x": replicates(rng, np.arange(100), 6), "y": replicates(rng, np.arange(112), 6, extra=0.05)}
    rounds = [task_decisions({m: w[:n] for m, w in wrong.items()}, 2, 2, 6, 0.05, 0.02) for n in (2, 4, 6)]
    final = rounds[-1]["pairs"][0]
    for k, decided in enumerate(rounds, start=1):
        pair = decided["pairs"][0]
        if final["look"] <= k:
            assert pair == final
        else:
            assert pair["verdict"] is None and decided["next"] == ["x", "y"]
            assert decided["replicates_next"] == looks(2, 2, 6)[k]
    assert task_decisions(wrong, 2, 2, 6, 0.05, 0.02) == rounds[-1]


def test_a_pair_open_at_the_last_look_is_not_decided():
    # 1000 images, x wrong on 100, y on 102 in all 3 replicates: d = -0.002 every time, s_r = 0; c_j = -1 on
    # 2 images: s_c^2 = (2 * 0.998^2 + 998 * 0.002^2) / 999 = 0.0019980, se = sqrt(s_c^2/1000) = 0.0014135,
    # df = 999; one look (first = maximum = 3): z = 1.959964, t_0.975(999) = 1.962341, half 0.0027738:
    # (-0.0047738, 0.0007738) holds 0 and reaches past -0.003
    x = np.zeros((3, 1000), dtype=bool)
    x[:, :100] = True
    y = x.copy()
    y[:, 100:102] = True
    pair = task_decisions({"x": x, "y": y}, first=3, step=1, maximum=3, delta=0.003)["pairs"][0]
    assert (pair["verdict"], pair["look"], pair["replicates"]) == ("not decided", 1, 3)
    assert (pair["mean"], pair["se_replicates"], pair["df"]) == (-0.002, 0.0, pytest.approx(999.0))
    assert pair["se"] == pytest.approx(0.0014135, abs=1e-7)
    assert (pair["low"], pair["high"]) == (pytest.approx(-0.0047738, abs=1e-7), pytest.approx(0.0007738, abs=1e-7))
    # With two more looks to come the same pair is open, and both models train on
    decided = task_decisions({"x": x, "y": y}, first=3, step=1, maximum=5, delta=0.003)
    assert decided["pairs"][0]["verdict"] is None and decided["pairs"][0]["look"] == 1
    assert (decided["next"], decided["replicates_next"]) == (["x", "y"], 4)


def test_a_model_without_replicates_is_left_out_and_a_lagging_one_catches_up():
    rng = np.random.default_rng(13)
    same = np.arange(100)
    wrong = {"x": replicates(rng, same, 4), "none": np.zeros((0, 1000), dtype=bool), "y": replicates(rng, same, 4)}
    decided = task_decisions(wrong, 2, 2, 6, 0.05, 0.0001)  # a margin too small to be met: all stay open
    assert [(pair["model_a"], pair["model_b"]) for pair in decided["pairs"]] == [("x", "y")]
    assert decided["pairs"][0]["critical_z"] == critical_values(2, 2, 6, 0.05, 1)[1]  # one pair: no Bonferroni
    # z has only 2 replicates: its pairs were judged at look 1 only, so z (and its partners) go to 4 first
    wrong = {"x": wrong["x"], "y": wrong["y"], "z": replicates(rng, same, 2), "none": np.zeros(0)}
    decided = task_decisions(wrong, 2, 2, 6, 0.05, 0.0001)
    assert [pair["look"] for pair in decided["pairs"]] == [2, 1, 1]
    assert (decided["next"], decided["replicates_next"]) == (["x", "y", "z"], 4)
    assert task_decisions({"x": wrong["x"]}, 2, 2, 6) == {"pairs": [], "next": [], "replicates_next": None}


@pytest.mark.parametrize(
    "wrong, settings",
    [
        ({"x": np.zeros((2, 10), bool), "y": np.zeros((2, 11), bool)}, {}),
        ({"x": np.full((2, 10), 2), "y": np.zeros((2, 10), bool)}, {}),
        ({"x": np.zeros((2, 10), bool), "y": np.zeros((2, 10), bool)}, {"delta": -0.01}),
        ({"x": np.zeros((2, 10), bool), "y": np.zeros((2, 10), bool)}, {"first": 1}),
    ],
)
def test_task_decisions_refuses_bad_input(wrong, settings):
    with pytest.raises(ValueError):
        task_decisions(wrong, **settings)


# --- descriptions --------------------------------------------------------------------------------


def test_mean_error_interval_of_a_hand_case():
    # 2 replicates x 4 images [[1, 0, 0, 1], [1, 1, 0, 0]]: errors 0.5, 0.5 (s_r^2 = 0); per-image means 1, 0.5,
    # 0, 0.5: mean 0.5, squares of deviations 0.25 + 0 + 0.25 + 0 = 0.5, s_c^2 = 0.5/3, se^2 = 0.5/3/4 = 1/24,
    # se = 0.2041241, df = 3; t_0.975(3) = 3.182446, half 0.6496127: (-0.1496, 1.1496), clipped to (0, 1)
    result = mean_error_interval(np.array([[1, 0, 0, 1], [1, 1, 0, 0]], dtype=bool))
    assert (result["n"], result["images"], result["mean"], result["se_replicates"]) == (2, 4, 0.5, 0.0)
    assert (result["se"], result["df"]) == (pytest.approx(0.2041241, abs=1e-7), pytest.approx(3.0))
    assert (result["low"], result["high"]) == (0.0, 1.0)


def test_mean_error_interval_by_the_formula_and_scipy():
    rng = np.random.default_rng(4)
    wrong = rng.random((5, 2000)) < rng.uniform(0.01, 0.02, size=(5, 1))
    errors, images = wrong.mean(axis=1), wrong.mean(axis=0)
    part_r, part_c = errors.var(ddof=1) / 5, images.var(ddof=1) / 2000
    df = (part_r + part_c) ** 2 / (part_r**2 / 4 + part_c**2 / 1999)
    low, high = stats.t.interval(0.99, df, loc=errors.mean(), scale=math.sqrt(part_r + part_c))
    result = mean_error_interval(wrong, confidence=0.99)
    assert (result["mean"], result["df"]) == (pytest.approx(errors.mean()), pytest.approx(df))
    assert (result["low"], result["high"]) == (pytest.approx(low), pytest.approx(high))
    # A model never wrong: the floor (one wrong image in one replicate) keeps the interval off a point:
    # se = sqrt(1/(5^2 * 2000) / 2000) = 1/10000, df = 1999; high = 1.961151/10000
    never = mean_error_interval(np.zeros((5, 2000), dtype=bool))
    assert (never["low"], never["high"]) == (0.0, pytest.approx(stats.t.ppf(0.975, 1999) / 10_000))
    one = mean_error_interval(np.ones((1, 20), dtype=bool))
    assert (one["mean"], one["se"], one["low"], one["high"]) == (1.0, None, None, None)


def test_beats_counts_ties_as_one_half_with_an_exact_interval():
    # A lower at replicates 0, 3, 4, tie at 1, B lower at 2; the pair with NaN dropped: p = (3 + 1/2)/5 = 0.7.
    # low = exact lower bound of 3 of 5 (0.1466, binomial tables), high = exact upper bound of 4 of 5 (0.9949)
    result = beats([0.1, 0.2, 0.3, 0.4, 0.5, math.nan], [0.2, 0.2, 0.1, 0.5, 0.6, 0.1])
    assert {key: result[key] for key in ("n", "a_wins", "b_wins", "ties", "p")} == {
        "n": 5,
        "a_wins": 3,
        "b_wins": 1,
        "ties": 1,
        "p": 0.7,
    }
    assert (result["low"], result["high"]) == (pytest.approx(0.1466, abs=1e-4), pytest.approx(0.9949, abs=1e-4))
    assert (result["low"], result["high"]) == (clopper_pearson(3, 5)[0], clopper_pearson(4, 5)[1])
    # Only ties: p = 1/2, and the interval runs from the lower bound of 0 wins to the upper bound of 4 of 4
    assert beats([0.1] * 4, [0.1] * 4) == {
        "n": 4,
        "a_wins": 0,
        "b_wins": 0,
        "ties": 4,
        "p": 0.5,
        "low": 0.0,
        "high": 1.0,
    }
    assert beats([], [])["p"] is None and beats([math.nan], [0.1])["low"] is None
    with pytest.raises(ValueError):
        beats([0.1], [0.1, 0.2])


@pytest.mark.parametrize("win, tie", [(0.5, 0.0), (0.3, 0.4), (0.6, 0.3), (0.1, 0.8), (0.05, 0.1)])
def test_beats_interval_covers_wins_plus_half_the_ties(win, tie):
    # Exact coverage, no Monte Carlo: over every (wins, ties, losses) of n = 12 replicates, weighted by its
    # trinomial probability, the share whose interval holds P(A < B) + P(tie)/2.
    n, target = 12, win + tie / 2
    coverage = 0.0
    for wins in range(n + 1):
        for ties in range(n + 1 - wins):
            losses = n - wins - ties
            result = beats([0.0] * wins + [0.5] * ties + [1.0] * losses, [0.5] * n)
            probability = stats.multinomial.pmf([wins, ties, losses], n, [win, tie, 1 - win - tie])
            coverage += probability * (result["low"] <= target <= result["high"])
    assert coverage >= 0.95
