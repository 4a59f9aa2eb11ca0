"""The report's statistics: exact intervals of error rates, paired tests of two models on one test set,
the spread of a seed study, the ratio of two spreads, and paired tests of two models over replicates
(replicate i of each shares its seed index and data split)."""

import numpy as np
from scipy import stats


CONFIDENCE = 0.95


def clopper_pearson(errors: int, n: int, confidence=CONFIDENCE) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of errors/n, as fractions (low, high)."""
    if n <= 0 or not 0 <= errors <= n:
        raise ValueError(f"clopper_pearson: need 0 <= errors <= n and n > 0, got errors={errors}, n={n}")
    interval = stats.binomtest(errors, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(interval.low), float(interval.high)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value of the discordant counts b (only A wrong) and c (only B wrong)."""
    if b < 0 or c < 0:
        raise ValueError(f"mcnemar_exact: discordant counts must be >= 0, got b={b}, c={c}")
    if b + c == 0:  # no image on which the models disagree: nothing to test (binomtest refuses n = 0)
        return 1.0
    return float(stats.binomtest(b, b + c, 0.5).pvalue)


def as_wrong(values, name):
    """A 1-D boolean array of a model's misclassifications; anything but 0/1 is a caller's slip."""
    array = np.asarray(values)
    if array.ndim != 1 or not np.isin(array, (0, 1)).all():
        raise ValueError(f"paired_comparison: {name} must be a 1-D boolean array")
    return array.astype(bool)


def paired_comparison(wrong_a, wrong_b, seed: int, resamples=10_000, confidence=CONFIDENCE) -> dict:
    """Errors of two models on the same images, the difference with a seeded paired bootstrap
    (percentile) interval, and McNemar's exact p-value."""
    a, b = as_wrong(wrong_a, "wrong_a"), as_wrong(wrong_b, "wrong_b")
    if len(a) != len(b) or len(a) == 0:
        raise ValueError(f"paired_comparison: need two non-empty arrays of one length, got {len(a)} and {len(b)}")
    n, only_a, only_b = len(a), int((a & ~b).sum()), int((b & ~a).sum())
    # By hand: scipy.stats.bootstrap(paired=True) would draw resamples x n indices (10^8 for 10,000 images);
    # a resample of images matters only through how many discordant images of each kind it draws,
    # so a multinomial draw has exactly the distribution of resampled indices, at a fraction of the cost.
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, [only_a / n, only_b / n, 1 - (only_a + only_b) / n], size=resamples)
    differences = (draws[:, 0] - draws[:, 1]) / n
    tail = (1 - confidence) / 2
    low, high = np.quantile(differences, [tail, 1 - tail])
    errors_a, errors_b = int(a.sum()), int(b.sum())
    return {
        "n": n,
        "errors_a": errors_a,
        "errors_b": errors_b,
        "only_a_wrong": only_a,
        "only_b_wrong": only_b,
        "error_a": errors_a / n,
        "error_b": errors_b / n,
        "difference": (only_a - only_b) / n,
        "low": float(low),
        "high": float(high),
        "p_value": mcnemar_exact(only_a, only_b),
        "resamples": resamples,
        "seed": seed,
    }


def finite(values):
    """The values as floats, without NaN (a diverged seed) or infinities."""
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def spread(values) -> dict:
    """n, mean, sd (ddof=1), min and max of the finite values; None where there are too few."""
    values = finite(values)
    if len(values) == 0:
        return {"n": 0, "mean": None, "sd": None, "min": None, "max": None}
    return {
        "n": len(values),
        "mean": float(values.mean()),
        "sd": float(values.std(ddof=1)) if len(values) > 1 else None,
        "min": float(values.min()),
        "max": float(values.max()),
    }


def mean_interval(values, confidence=CONFIDENCE) -> dict:
    """n, mean, sd (ddof=1) and the two-sided t-interval (low, high) of the mean of the finite values.
    None where there are too few values; low == high == mean when every value is the same."""
    values = finite(values)
    n = len(values)
    result = {"n": n, "mean": float(values.mean()) if n else None, "sd": None, "low": None, "high": None}
    if n < 2:
        return result
    if np.ptp(values) == 0:  # scipy gives NaN for an interval of scale 0; with no spread it is the point
        return {**result, "sd": 0.0, "low": result["mean"], "high": result["mean"]}
    sd = float(values.std(ddof=1))
    low, high = stats.t.interval(confidence, n - 1, loc=result["mean"], scale=sd / np.sqrt(n))
    return {**result, "sd": sd, "low": float(low), "high": float(high)}


def sd_ratio(sd_a, n_a, sd_b, n_b, confidence=CONFIDENCE) -> dict:
    """The ratio sd_a / sd_b of two samples' standard deviations (ddof=1, of n_a and n_b values) with the
    two-sided interval (low, high) of the ratio of the true sds s_a / s_b: (sd_a^2 / s_a^2) / (sd_b^2 / s_b^2)
    follows the F distribution with n_a - 1 and n_b - 1 degrees of freedom where the values are normal.
    None where a sample has fewer than 2 values or sd_b is missing or 0."""
    if sd_a is None or not sd_b or n_a < 2 or n_b < 2:
        return {"ratio": None, "low": None, "high": None}
    ratio = sd_a / sd_b
    tail = (1 - confidence) / 2
    f_high, f_low = stats.f.ppf([1 - tail, tail], n_a - 1, n_b - 1)
    return {"ratio": ratio, "low": ratio / float(np.sqrt(f_high)), "high": ratio / float(np.sqrt(f_low))}


def finite_pairs(a, b, name):
    """The pairs (a[i], b[i]) as two float arrays, without the pairs where either value is NaN or infinite."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if len(a) != len(b):
        raise ValueError(f"{name}: a and b must pair up replicates one to one, got {len(a)} and {len(b)} values")
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def paired_t_test(a, b, confidence=CONFIDENCE) -> dict:
    """Paired t-test of the differences a - b of replicates: their n, mean and sd (ddof=1), the t-interval
    (low, high) of the mean difference, t and the two-sided p_value. Pairs with NaN are dropped."""
    a, b = finite_pairs(a, b, "paired_t_test")
    differences = a - b
    # Errors k/n that differ by the same count in every replicate give differences equal only up to the
    # rounding of a and b (0.3 - 0.1 != 0.4 - 0.2); they have no spread, so treat them as one value.
    if len(differences) and np.ptp(differences) <= 4 * np.finfo(float).eps * np.abs(np.r_[a, b]).max():
        differences = np.full(len(differences), differences[0])
    result = {**mean_interval(differences, confidence), "t": None, "p_value": None}
    if result["n"] < 2:
        return result
    if result["sd"] == 0:
        # No spread: the difference is the same every time, so no replicate doubts it. scipy returns
        # t = p = NaN for differences all 0, and t = inf, p = 0 (or ~1e16 and ~1e-32 with a warning for
        # rounded ones); we say p = 1 (no difference at all) or p = 0 (always the same difference), t None.
        return {**result, "p_value": 1.0 if result["mean"] == 0 else 0.0}
    test = stats.ttest_rel(a, b)
    return {**result, "t": float(test.statistic), "p_value": float(test.pvalue)}


def wins(a, b, confidence=CONFIDENCE) -> dict:
    """How often A has the lower error in paired replicates, with the exact (Clopper-Pearson) interval of
    P(A beats B); a tie is not a win. Pairs with NaN are dropped; None where no pair is left."""
    a, b = finite_pairs(a, b, "wins")
    n, a_wins, b_wins = len(a), int((a < b).sum()), int((b < a).sum())
    low, high = clopper_pearson(a_wins, n, confidence) if n else (None, None)
    return {
        "n": n,
        "a_wins": a_wins,
        "b_wins": b_wins,
        "ties": n - a_wins - b_wins,
        "p_a_beats_b": a_wins / n if n else None,
        "low": low,
        "high": high,
    }


def replicates_needed(mean_difference, sd_difference, confidence=CONFIDENCE, power=0.8, limit=1000) -> int | None:
    """The smallest n >= 2 of paired replicates at which a two-sided paired t-test at level 1 - confidence
    detects a true mean difference with the given sd of differences with at least `power`, computed
    exactly from the noncentral t distribution. None when there is no difference to detect, the sd is
    unknown, or more than `limit` replicates would be needed (then a replicate study is not the way)."""
    if not 0 < power < 1:
        raise ValueError(f"replicates_needed: power must lie strictly between 0 and 1, got {power}")
    if mean_difference is None or sd_difference is None or not np.isfinite([mean_difference, sd_difference]).all():
        return None
    if sd_difference < 0:
        raise ValueError(f"replicates_needed: sd_difference must be >= 0, got {sd_difference}")
    if mean_difference == 0:
        return None
    if sd_difference == 0:  # the difference is the same every time: paired_t_test gives p = 0 from n = 2
        return 2 if limit >= 2 else None
    n = np.arange(2, limit + 1)
    critical = stats.t.ppf(1 - (1 - confidence) / 2, n - 1)
    noncentrality = abs(mean_difference) / sd_difference * np.sqrt(n)
    powers = stats.nct.sf(critical, n - 1, noncentrality) + stats.nct.cdf(-critical, n - 1, noncentrality)
    reached = np.flatnonzero(powers >= power)  # power grows with n, so the first n that reaches it is the one
    return int(n[reached[0]]) if len(reached) else None
