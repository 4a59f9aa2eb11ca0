"""The report's statistics: exact intervals of error rates, paired tests of two trained networks on one
test set, the spread of a seed study, and the ratio of two spreads. The decisions between models over
replicates are sequential.py's."""

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


def sd_ratio(sd_a, n_a, sd_b, n_b, confidence=CONFIDENCE) -> dict:
    """The ratio sd_a / sd_b of two samples' standard deviations (ddof=1, of n_a and n_b values) with the
    two-sided interval (low, high) of the ratio of the true sds s_a / s_b: (sd_a^2 / s_a^2) / (sd_b^2 / s_b^2)
    follows the F distribution with n_a - 1 and n_b - 1 degrees of freedom where the values are normal.
    None where a sample has fewer than 2 values or either sd is missing or 0 (a sample with no spread
    bounds nothing: its interval would collapse to 0)."""
    if not sd_a or not sd_b or n_a < 2 or n_b < 2:
        return {"ratio": None, "low": None, "high": None}
    ratio = sd_a / sd_b
    tail = (1 - confidence) / 2
    f_high, f_low = stats.f.ppf([1 - tail, tail], n_a - 1, n_b - 1)
    return {"ratio": ratio, "low": ratio / float(np.sqrt(f_high)), "high": ratio / float(np.sqrt(f_low))}
