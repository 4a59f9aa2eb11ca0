"""The report's statistics against cases computed by hand (the computation beside each number)."""

import math

import numpy as np
import pytest

from digitstudy.stats import (
    clopper_pearson,
    mcnemar_exact,
    paired_comparison,
    sd_ratio,
    spread,
)
from digitstudy.tables import describe_p


def test_mcnemar_exact_on_small_tables():
    # b=7, c=1: X ~ Bin(8, 1/2), P(X <= 1) = (C(8,0) + C(8,1)) / 2**8 = 9/256; p = 2 * 9/256 = 0.0703125
    assert mcnemar_exact(7, 1) == pytest.approx(0.0703125, abs=1e-15)
    assert mcnemar_exact(1, 7) == mcnemar_exact(7, 1)
    # b=10, c=0: P(X <= 0) = 1/1024; p = 2/1024 = 0.001953125
    assert mcnemar_exact(10, 0) == pytest.approx(0.001953125, abs=1e-15)
    # b=c=3: P(X <= 3) = (1 + 6 + 15 + 20)/64 = 42/64; 2 * 42/64 = 84/64 > 1, capped at 1
    assert mcnemar_exact(3, 3) == 1.0
    # b=c=0: no discordant image, nothing to test
    assert mcnemar_exact(0, 0) == 1.0


def test_mcnemar_exact_stays_exact_for_many_discordant_images():
    # b=c=5000: P(X <= 5000) for X ~ Bin(10000, 1/2) is just over 1/2, so p is capped at 1 (no overflow)
    assert mcnemar_exact(5000, 5000) == 1.0
    # b=120, c=60 (the large case below): far below 0.001 and positive (2**180 did not underflow to 0)
    assert 0 < mcnemar_exact(120, 60) < 1e-3
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 3)


def test_mcnemar_exact_is_twice_the_smaller_binomial_tail():
    # p = min(1, 2 * sum_{k <= min(b, c)} C(b + c, k) / 2**(b + c)), the tail summed exactly in integers
    for b, c in [(0, 1), (1, 0), (2, 9), (9, 2), (4, 5), (13, 27), (40, 41), (0, 60), (150, 110)]:
        tail = sum(math.comb(b + c, k) for k in range(min(b, c) + 1))
        assert mcnemar_exact(b, c) == pytest.approx(min(1.0, 2 * tail / 2 ** (b + c)), rel=1e-12, abs=0)
    assert isinstance(mcnemar_exact(3, 5), float) and isinstance(mcnemar_exact(0, 0), float)


def test_clopper_pearson_at_the_edges():
    # 0 of 10: low = 0; high solves (1 - p)**10 = 0.025, so p = 1 - 0.025**(1/10)
    #          = 1 - exp(ln 0.025 / 10) = 1 - exp(-0.368888) = 1 - 0.691503 = 0.308497
    assert clopper_pearson(0, 10) == (0.0, pytest.approx(0.308497, abs=1e-6))
    # 10 of 10: mirror image, low solves p**10 = 0.025, so p = 0.025**(1/10) = 0.691503; high = 1
    assert clopper_pearson(10, 10) == (pytest.approx(0.691503, abs=1e-6), 1.0)


def test_clopper_pearson_at_another_confidence_level():
    # 99%: each tail 0.005. 0 of 10: high solves (1 - p)**10 = 0.005, p = 1 - 0.005**(1/10) = 0.411306;
    # 10 of 10: low = 0.005**(1/10) = 0.588694. The edges stay exactly 0 and 1.
    low, high = clopper_pearson(0, 10, confidence=0.99)
    assert (low, high) == (0.0, pytest.approx(1 - 0.005**0.1, abs=1e-12))
    low, high = clopper_pearson(10, 10, confidence=0.99)
    assert (low, high) == (pytest.approx(0.005**0.1, abs=1e-12), 1.0)
    # 1 of 1 at 95%: low solves p = 0.025
    assert clopper_pearson(1, 1) == (pytest.approx(0.025, abs=1e-12), 1.0)
    assert all(isinstance(bound, float) for bound in clopper_pearson(3, 50))


def binomial_cdf(k, n, p):
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def bisect(f, low=0.0, high=1.0):
    """The root of an increasing f on [low, high]."""
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if f(middle) < 0 else (low, middle)
    return (low + high) / 2


def test_clopper_pearson_in_the_middle():
    # The exact bounds by definition: low is the p at which P(X >= k) = 0.025, high the p at which
    # P(X <= k) = 0.025, solved here by bisection on the binomial CDF, without scipy.
    for k, n in ((5, 10), (3, 50), (120, 10_000)):
        low = bisect(lambda p: (1 - binomial_cdf(k - 1, n, p)) - 0.025)
        high = bisect(lambda p: 0.025 - binomial_cdf(k, n, p))
        assert clopper_pearson(k, n) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
    # 5 of 10: the published exact 95% interval (e.g. in binomial confidence tables) is 0.1871 to 0.8129
    assert clopper_pearson(5, 10) == (pytest.approx(0.1871, abs=1e-4), pytest.approx(0.8129, abs=1e-4))


@pytest.mark.parametrize("errors, n", [(0, 0), (3, 2), (-1, 10)])
def test_clopper_pearson_refuses_impossible_counts(errors, n):
    with pytest.raises(ValueError):
        clopper_pearson(errors, n)


def wrong_vectors(n, only_a, only_b, both=0):
    """Misclassification vectors of two models with the given counts of each kind of image."""
    a = np.zeros(n, dtype=bool)
    b = np.zeros(n, dtype=bool)
    a[: only_a + both] = True
    b[only_a : only_a + both + only_b] = True
    return a, b


def test_paired_comparison_counts_errors_and_discordant_images():
    # 20 images: A wrong on 0-4, B wrong on 3-5; both wrong on 3, 4; only A on 0, 1, 2; only B on 5
    a, b = wrong_vectors(20, only_a=3, only_b=1, both=2)
    result = paired_comparison(a, b, seed=0, resamples=1000)
    # error_a = 5/20 = 0.25, error_b = 3/20 = 0.15, difference = (3 - 1)/20 = 0.1
    assert {key: result[key] for key in ("n", "errors_a", "errors_b", "only_a_wrong", "only_b_wrong")} == {
        "n": 20,
        "errors_a": 5,
        "errors_b": 3,
        "only_a_wrong": 3,
        "only_b_wrong": 1,
    }
    assert (result["error_a"], result["error_b"]) == (0.25, 0.15)
    assert result["difference"] == pytest.approx(0.1)
    # McNemar b=3, c=1: 2 * (C(4,0) + C(4,1)) / 2**4 = 2 * 5/16 = 0.625
    assert result["p_value"] == pytest.approx(0.625)
    assert (result["resamples"], result["seed"]) == (1000, 0)


def test_paired_bootstrap_is_reproducible_and_seeded():
    # n = 10000, not fewer: the bounds lie on a grid of 1/n, and on a coarse grid two seeds often agree
    a, b = wrong_vectors(10_000, only_a=300, only_b=150, both=100)
    first, again = paired_comparison(a, b, seed=7), paired_comparison(a, b, seed=7)
    other = paired_comparison(a, b, seed=8)
    assert first == again
    assert (first["low"], first["high"]) != (other["low"], other["high"])
    # Another seed moves the bounds by Monte Carlo noise only, a few images in 10000
    assert other["low"] == pytest.approx(first["low"], abs=5e-4)
    assert other["high"] == pytest.approx(first["high"], abs=5e-4)
    assert first["low"] < first["difference"] < first["high"]


def test_paired_bootstrap_matches_the_normal_approximation_on_a_large_test_set():
    # n = 10000, b = 120, c = 60: difference = 60/10000 = 0.006. Each image contributes d = +1 (only A
    # wrong), -1 (only B wrong) or 0; var(d) = (b + c)/n - ((b - c)/n)**2, so the sd of the mean is
    # sqrt(b + c - (b - c)**2/n)/n = sqrt(180 - 0.36)/10000 = 13.4030/10000 = 0.00134030;
    # 1.96 * 0.00134030 = 0.0026270, interval 0.006 -+ 0.0026270 = (0.0033730, 0.0086270)
    a, b = wrong_vectors(10_000, only_a=120, only_b=60, both=40)
    result = paired_comparison(a, b, seed=1)
    assert result["difference"] == pytest.approx(0.006)
    assert result["low"] == pytest.approx(0.0033730, abs=0.001)
    assert result["high"] == pytest.approx(0.0086270, abs=0.001)
    assert result["low"] < result["difference"] < result["high"]


def test_paired_bootstrap_of_identical_models_is_a_point():
    # No discordant image: every resample has difference 0, and McNemar has nothing to test (p = 1)
    a, b = wrong_vectors(50, only_a=0, only_b=0, both=5)
    result = paired_comparison(a, b, seed=3, resamples=100)
    assert (result["difference"], result["low"], result["high"], result["p_value"]) == (0.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize(
    "wrong_a, wrong_b", [([True, False], [True]), ([], []), ([0, 2], [1, 0]), ([[True]], [[False]])]
)
def test_paired_comparison_refuses_mismatched_or_non_boolean_input(wrong_a, wrong_b):
    with pytest.raises(ValueError):
        paired_comparison(wrong_a, wrong_b, seed=0)


def test_spread_of_a_hand_case_and_with_nan():
    # 1..5: mean 3, sd = sqrt((4+1+0+1+4)/4) = sqrt(2.5) = 1.581139
    assert spread([1, 2, 3, 4, 5]) == {
        "n": 5,
        "mean": 3.0,
        "sd": pytest.approx(1.581139, abs=1e-6),
        "min": 1.0,
        "max": 5.0,
    }
    # 0.02, 0.04 (NaN dropped): mean 0.03, sd = sqrt((0.01**2 + 0.01**2)/1) = 0.0141421
    result = spread([0.02, math.nan, 0.04])
    assert (result["n"], result["mean"]) == (2, pytest.approx(0.03))
    assert result["sd"] == pytest.approx(0.0141421, abs=1e-7)


def test_spread_of_too_few_values():
    assert spread([0.5, math.nan]) == {"n": 1, "mean": 0.5, "sd": None, "min": 0.5, "max": 0.5}
    assert spread([math.nan]) == spread([]) == {"n": 0, "mean": None, "sd": None, "min": None, "max": None}


def test_sd_ratio_interval_by_closed_forms_and_f_tables():
    # Two values each: F(1, 1) is the square of a Cauchy variable, whose quantile at p is tan^2(pi p / 2);
    # the interval of the ratio of sds is ratio / tan(0.4875 pi) to ratio * tan(0.4875 pi).
    result = sd_ratio(0.3, 2, 0.1, 2)
    assert result["ratio"] == pytest.approx(3.0)
    quantile = math.tan(0.975 * math.pi / 2)
    assert (result["low"], result["high"]) == (pytest.approx(3 / quantile), pytest.approx(3 * quantile))
    # Three values each: F(2, 2) has CDF x / (1 + x), so its 97.5% quantile is 39.
    result = sd_ratio(1.0, 3, 1.0, 3)
    assert (result["low"], result["high"]) == (pytest.approx(39**-0.5), pytest.approx(39**0.5))
    # Five replicates against five seeds, from F tables: F(0.975; 4, 4) = 9.6045; three against five:
    # F(0.975; 2, 4) = 10.649 and F(0.025; 2, 4) = 1 / F(0.975; 4, 2) = 1 / 39.248.
    result = sd_ratio(2.0, 5, 1.0, 5)
    assert (result["low"], result["high"]) == (
        pytest.approx(2 / 9.6045**0.5, rel=1e-4),
        pytest.approx(2 * 9.6045**0.5, rel=1e-4),
    )
    result = sd_ratio(1.0, 3, 1.0, 5)
    assert (result["low"], result["high"]) == (
        pytest.approx(10.649**-0.5, rel=1e-4),
        pytest.approx(39.248**0.5, rel=1e-4),
    )


def test_sd_ratio_interval_covers_the_true_ratio_95_times_in_100():
    rng = np.random.default_rng(7)
    trials, covered = 4000, 0
    for _ in range(trials):
        a, b = rng.normal(0, 2.0, 5), rng.normal(0, 1.0, 5)
        result = sd_ratio(a.std(ddof=1), 5, b.std(ddof=1), 5)
        covered += result["low"] <= 2.0 <= result["high"]
    assert 0.93 < covered / trials < 0.97


def test_sd_ratio_of_too_few_values_or_no_spread():
    empty = {"ratio": None, "low": None, "high": None}
    assert sd_ratio(0.1, 1, 0.1, 5) == sd_ratio(0.1, 5, 0.0, 5) == sd_ratio(None, 5, 0.1, 5) == empty
    # No spread over the replicates bounds nothing: an interval [0, 0] would read as certainty.
    assert sd_ratio(0.0, 5, 0.1, 5) == empty


@pytest.mark.parametrize(
    "p_value, text",
    [
        (0.0703125, "p = 0.07"),
        (0.03, "p = 0.03"),
        (0.1679497, "p = 0.17"),
        (0.001, "p = 0.001"),
        (0.00099, "p < 0.001"),
        (1e-12, "p < 0.001"),
        (1.0, "p = 1"),
        (None, "not testable"),
    ],
)
def test_describe_p(p_value, text):
    assert describe_p(p_value) == text
