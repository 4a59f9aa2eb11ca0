"""Sequential decisions between the chosen models of one task, over rounds of fresh replicates.

Replicate i of every model shares its seed index, its train/validation split and the test images, so
replicates pair up. The study trains `first` replicates per model, then `step` more for the models with
a pair still undecided, up to `maximum`. After each round every undecided pair is judged with a
repeated confidence interval (Jennison & Turnbull 2000, ch. 9) of the difference of mean test errors:
O'Brien-Fleming-shaped group-sequential boundaries at each look, Bonferroni over the task's pairs, so
that every interval holds its pair's true difference at every look, jointly over all looks and pairs,
with probability at least 1 - alpha. A pair ends as 'a' (a has the lower error: the interval lies
below 0), 'b' (above 0), 'equal' (inside (-delta, delta)) or 'not decided' (neither at the last look).

Boundaries assume information proportional to replicates. The test images' part of the standard
error does not shrink with more replicates, so the true information grows more slowly than that and
the looks are more correlated than assumed: that only lowers the chance of crossing a boundary.

Descriptions beside the verdict (`mean_error_interval`, `beats`) are for tables, not for deciding.
"""

import functools
import itertools

import numpy as np
from scipy import optimize, stats

from .stats import clopper_pearson
from .study import looks


ALPHA = 0.05  # familywise, per task: over all rounds and all pairs
DELTA = 0.005  # the margin of 'equal', as a fraction of the test set (0.5 points)
GRID_SIZE = 18  # r of Jennison & Turnbull's grid (section 19.2): 6r - 1 points, errors below 1e-6
LOW_ERROR, HIGH_ERROR = -1.0, 1.0  # a difference of two error rates lies in [-1, 1]
OPEN, A_BETTER, B_BETTER, EQUAL, NOT_DECIDED = 0, 1, 2, 3, 4
VERDICTS = {OPEN: None, A_BETTER: "a", B_BETTER: "b", EQUAL: "equal", NOT_DECIDED: "not decided"}


# --- group-sequential boundaries -----------------------------------------------------------------


def simpson_grid(bound: float, r: int = GRID_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Points and Simpson weights over [-bound, bound] for integrating a density of roughly standard
    normal shape: Jennison & Turnbull's grid (section 19.2), dense in the middle, sparse in the tails,
    with the midpoints of its intervals added."""
    i = np.arange(1, 6 * r)
    # By hand: scipy has no group-sequential integrator (gsDesign, in R, uses this grid).
    points = np.where(
        i < r,
        -3 - 4 * np.log(r / i),
        np.where(i <= 5 * r, -3 + 3 * (i - r) / (2 * r), 3 + 4 * np.log(r / (6 * r - i))),
    )
    ends = np.concatenate([[-bound], points[np.abs(points) < bound], [bound]])
    grid = np.empty(2 * len(ends) - 1)
    grid[0::2], grid[1::2] = ends, (ends[:-1] + ends[1:]) / 2
    widths = np.diff(ends)
    weights = np.zeros_like(grid)
    weights[0:-1:2] += widths / 6
    weights[2::2] += widths / 6
    weights[1::2] = 4 * widths / 6
    return grid, weights


def checked_boundaries(bounds, information) -> tuple[np.ndarray, np.ndarray]:
    """The bounds and information as float arrays, refused when they cannot describe looks."""
    bounds, information = np.asarray(bounds, dtype=float), np.asarray(information, dtype=float)
    if bounds.ndim != 1 or bounds.shape != information.shape or len(bounds) == 0:
        raise ValueError(f"crossing_probability: need one bound per look, got {bounds.shape} and {information.shape}")
    if not (information[0] > 0 and np.all(np.diff(information) > 0)):
        raise ValueError(f"crossing_probability: information must be positive and increasing, got {information}")
    if not np.all(np.isfinite(bounds) & (bounds > 0)):
        raise ValueError(f"crossing_probability: bounds must be positive and finite, got {bounds}")
    return bounds, information


def crossing_probability(bounds, information) -> float:
    """P(|Z_k| >= bounds[k] at some look k) for Z_k = S(I_k) / sqrt(I_k) of a standard Brownian motion S
    (no drift), by recursive numerical integration over the continuation region (Armitage, McPherson &
    Rowe 1969, in the form of Jennison & Turnbull 2000, ch. 19): deterministic, no Monte Carlo."""
    bounds, information = checked_boundaries(bounds, information)
    crossing = 2 * stats.norm.sf(bounds[0])
    grid, weights = simpson_grid(bounds[0])
    mass = weights * stats.norm.pdf(grid)  # density of Z_1 on the grid, times the Simpson weights
    for k in range(1, len(bounds)):
        root_before, root_now = np.sqrt(information[k - 1]), np.sqrt(information[k])
        spread = np.sqrt(information[k] - information[k - 1])  # sd of the increment S(I_k) - S(I_k-1)
        before = grid * root_before
        crossing += mass @ (stats.norm.cdf((before - bounds[k] * root_now) / spread))
        crossing += mass @ (stats.norm.cdf((-bounds[k] * root_now - before) / spread))
        if k < len(bounds) - 1:
            next_grid, next_weights = simpson_grid(bounds[k])
            moves = (next_grid[None, :] * root_now - before[:, None]) / spread
            density = mass @ (stats.norm.pdf(moves) * root_now / spread)
            grid, mass = next_grid, next_weights * density
    return float(crossing)


def solved_constant(shape: np.ndarray, information, alpha: float) -> float:
    """The C at which the bounds C * shape cross with probability alpha."""
    if not 0 < alpha < 1:
        raise ValueError(f"boundaries: alpha must lie strictly between 0 and 1, got {alpha}")
    # C = z_{alpha/2} on its own gives alpha at one look, so at least alpha over all; Bonferroni's
    # z_{alpha / 2K} at every look gives at most alpha: the root lies between.
    low = stats.norm.isf(alpha / 2) * 0.999
    high = stats.norm.isf(alpha / (2 * len(shape))) / shape.min() + 0.01
    return optimize.brentq(
        lambda c: crossing_probability(c * shape, information) - alpha, low, high, xtol=1e-10, rtol=1e-12
    )


def obrien_fleming(information, alpha: float = ALPHA) -> np.ndarray:
    """Two-sided O'Brien-Fleming-shaped critical z values c_k = C * sqrt(I_K / I_k) at the looks of the
    given information, C solved so that the boundaries are crossed with probability alpha under no
    difference."""
    information = np.asarray(information, dtype=float)
    shape = np.sqrt(information[-1] / information)
    return solved_constant(shape, information, alpha) * shape


def pocock(information, alpha: float = ALPHA) -> np.ndarray:
    """Two-sided Pocock critical z values (one constant at every look) crossed with probability alpha;
    here only to check the integrator against a second published table."""
    shape = np.ones(len(information))
    return solved_constant(shape, information, alpha) * shape


@functools.cache
def critical_values(first: int, step: int, maximum: int, alpha: float, pairs: int) -> tuple[float, ...]:
    """Each look's critical z value for one of a task's `pairs` pairs: O'Brien-Fleming boundaries at
    alpha / pairs (Bonferroni), information proportional to the replicates at each look. Cached: a
    replay asks for the same values at every round."""
    if pairs < 1:
        raise ValueError(f"critical_values: pairs must be >= 1, got {pairs}")
    return tuple(float(z) for z in obrien_fleming(looks(first, step, maximum), alpha / pairs))


# --- the estimate and its interval -----------------------------------------------------------------


def estimate_from_sums(n, images, replicate_sum, replicate_squares, column_squares) -> dict:
    """A mean over n replicates x `images` test images, from integer sufficient statistics, with a standard
    error that holds both the spread over replicates and the sampling of the test images.

    D_i is replicate i's count over the images (a difference of error counts, or a count of errors),
    S_j image j's sum over the replicates: replicate_sum = sum D_i = sum S_j, replicate_squares =
    sum D_i^2, column_squares = sum S_j^2. Arrays of them (many simulated studies) give arrays back.
    The images' part is the closed form of a bootstrap over test images, each draw applied to every
    replicate: it counts the replicate x image interaction a second time, which errs on the safe side.
    With no spread over images, s_c^2 is what one image in one replicate would give, 1 / (n^2 N): no
    spread never reads as certainty. df is Welch-Satterthwaite's."""
    total = np.asarray(replicate_sum, dtype=float)
    mean = total / (n * images)
    # From integer sums (exact in any order of summation) the vectorised path and the one-study path
    # give the same bits, so the simulator's decisions are task_decisions' own.
    s_r2 = np.maximum(np.asarray(replicate_squares) - total**2 / n, 0) / (n - 1) / images**2
    s_c2 = np.maximum(np.asarray(column_squares) - total**2 / images, 0) / (images - 1) / n**2
    s_c2 = np.maximum(s_c2, 1 / (n**2 * images))
    part_r, part_c = s_r2 / n, s_c2 / images
    se2 = part_r + part_c
    df = se2**2 / (part_r**2 / (n - 1) + part_c**2 / (images - 1))
    return {"mean": mean, "se_replicates": np.sqrt(part_r), "se_images": np.sqrt(part_c), "se": np.sqrt(se2), "df": df}


def as_wrong_matrix(values, name: str) -> np.ndarray:
    """A 2-D (replicates x images) 0/1 array as integers; anything else is a caller's slip."""
    array = np.asarray(values)
    if array.ndim != 2 or not np.isin(array, (0, 1)).all():
        raise ValueError(f"sequential: {name} must be a 2-D (replicates x images) boolean array, got {array.shape}")
    return array.astype(np.int64)


def scalar_estimate(n: int, images: int, counts: np.ndarray, column_sums: np.ndarray) -> dict:
    """estimate_from_sums of one study as plain floats; se None (undecidable) with one replicate."""
    if images < 2:
        raise ValueError(f"sequential: need at least 2 test images to see their spread, got {images}")
    result = {"n": n, "images": images, "mean": float(counts.sum() / (n * images))}
    if n < 2:
        return {**result, "se_replicates": None, "se_images": None, "se": None, "df": None}
    sums = estimate_from_sums(n, images, counts.sum(), (counts**2).sum(), (column_sums**2).sum())
    return {**result, **{key: float(value) for key, value in sums.items()}}


def paired_estimate(wrong_a, wrong_b) -> dict:
    """The mean difference of error rates (a - b, a fraction) over n paired replicates x N test images,
    with its standard error se^2 = s_r^2 / n + s_c^2 / N: s_r^2 the variance (ddof=1) of the replicates'
    differences, s_c^2 that of the images' differences averaged over replicates, and Welch-Satterthwaite
    degrees of freedom. The images' part is a bootstrap over test images in closed form; it counts the
    replicate x image interaction twice, which errs on the safe side; models that agree on every image
    still get an se (estimate_from_sums says how). With one replicate, se and df are None: undecidable.
    {n, images, mean, se_replicates, se_images, se, df}."""
    a, b = as_wrong_matrix(wrong_a, "wrong_a"), as_wrong_matrix(wrong_b, "wrong_b")
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"paired_estimate: need two non-empty arrays of one shape, got {a.shape} and {b.shape}")
    n, images = a.shape
    return scalar_estimate(n, images, a.sum(axis=1) - b.sum(axis=1), a.sum(axis=0) - b.sum(axis=0))


def t_critical(critical_z, df):
    """The t critical value at df with the two-sided tail probability of the z critical value
    (Jennison & Turnbull's significance-level approach to group-sequential t-tests)."""
    return stats.t.isf(stats.norm.sf(critical_z), df)


def interval_bounds(mean, se, df, critical_z):
    """mean -+ t * se, clipped to the possible differences [-1, 1]; works on arrays."""
    half = t_critical(critical_z, df) * se
    return np.clip(mean - half, LOW_ERROR, HIGH_ERROR), np.clip(mean + half, LOW_ERROR, HIGH_ERROR)


def repeated_interval(estimate: dict, critical_z: float) -> tuple:
    """The repeated confidence interval (low, high) of a paired_estimate at a look's critical z value;
    (None, None) where the estimate has no standard error."""
    if estimate["se"] is None:
        return None, None
    low, high = interval_bounds(estimate["mean"], estimate["se"], estimate["df"], critical_z)
    return float(low), float(high)


def decide(low, high, delta):
    """Verdict codes of intervals (arrays or numbers): A_BETTER where high < 0 (lower error is better),
    B_BETTER where low > 0, else EQUAL where the interval lies inside (-delta, delta), else OPEN."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    equal = (-delta < low) & (high < delta)
    return np.select([high < 0, low > 0, equal], [A_BETTER, B_BETTER, EQUAL], OPEN)


def verdict(low, high, delta: float):
    """'a' (a better: the interval lies below 0), 'b' (above 0), 'equal' (inside (-delta, delta), checked
    after better) or None (undecided, also where there is no interval). delta is a fraction."""
    if low is None or high is None:
        return None
    return VERDICTS[int(decide(low, high, delta))]


# --- a task's decisions, replayed from its replicates ----------------------------------------------


def checked_wrong(wrong: dict) -> dict:
    """{model: int array (replicates x images)} of the models with replicates, all on one test set."""
    arrays = {model: np.asarray(values) for model, values in wrong.items()}
    arrays = {model: as_wrong_matrix(array, model) for model, array in arrays.items() if len(array)}
    images = {array.shape[1] for array in arrays.values()}
    if len(images) > 1:
        raise ValueError(f"task_decisions: the models' predictions cover different test sets ({sorted(images)} images)")
    return arrays


def open_pair(model_a, model_b) -> dict:
    """A pair not yet judged at any look."""
    fields = ("look", "replicates", "mean", "se", "se_replicates", "se_images", "df", "low", "high", "critical_z")
    return {"model_a": model_a, "model_b": model_b, "verdict": None, **dict.fromkeys(fields)}


def judged_pair(pair: dict, wrong_a, wrong_b, look: int, n: int, critical_z: float, delta: float) -> dict:
    """The pair judged on the first n replicates at a look (1-based)."""
    estimate = paired_estimate(wrong_a[:n], wrong_b[:n])
    low, high = repeated_interval(estimate, critical_z)
    numbers = {key: estimate[key] for key in ("mean", "se", "se_replicates", "se_images", "df")}
    judged = {"verdict": verdict(low, high, delta), "look": look, "replicates": n, "low": low, "high": high}
    return {**pair, **numbers, **judged, "critical_z": critical_z}


def task_decisions(wrong: dict, first=5, step=5, maximum=20, alpha=ALPHA, delta=DELTA) -> dict:
    """Every pair's decision so far, replayed from all the replicates of a task's models.

    wrong: {model: bool array (replicates so far x test images)}, in model order; a model without
    replicates is left out of every pair, and Bonferroni counts the pairs listed. At look k (n =
    looks[k] replicates) every pair still open whose models both have n replicates is judged on their
    first n; a decided pair keeps the numbers of the look that decided it; a pair open at the last look
    is 'not decided'. Returns {"pairs": [...] in itertools.combinations order, "next": the models with a
    pair still open, in model order, "replicates_next": the replicates they reach at the next look}."""
    if not delta >= 0:
        raise ValueError(f"task_decisions: delta must be >= 0 (a fraction of the test set), got {delta}")
    arrays, plan = checked_wrong(wrong), looks(first, step, maximum)
    pairs = [open_pair(a, b) for a, b in itertools.combinations(arrays, 2)]
    critical = critical_values(first, step, maximum, alpha, len(pairs)) if pairs else ()
    for k, n in enumerate(plan):
        for index, pair in enumerate(pairs):
            a, b = arrays[pair["model_a"]], arrays[pair["model_b"]]
            if pair["verdict"] is not None or min(len(a), len(b)) < n:
                continue
            pairs[index] = judged_pair(pair, a, b, k + 1, n, critical[k], delta)
            if pairs[index]["verdict"] is None and k == len(plan) - 1:
                pairs[index]["verdict"] = "not decided"
    return {"pairs": pairs, **next_round(pairs, list(arrays), plan)}


def next_round(pairs: list, models: list, plan: list) -> dict:
    """The models with a pair still open and the replicates they reach at the next look (the earliest
    next look of any open pair, so that a model that lags behind catches up first)."""
    still_open = [pair for pair in pairs if pair["verdict"] is None]
    needed = {model for pair in still_open for model in (pair["model_a"], pair["model_b"])}
    next_looks = [plan[pair["look"]] if pair["look"] else plan[0] for pair in still_open]
    return {"next": [model for model in models if model in needed], "replicates_next": min(next_looks, default=None)}


# --- descriptions beside the verdict -----------------------------------------------------------------


def mean_error_interval(wrong, confidence: float = 0.95) -> dict:
    """A model's mean test error over its replicates (replicates x images, bool) with the two-part standard
    error of paired_estimate (spread over replicates + test images, Welch-Satterthwaite df) and its
    two-sided t-interval (low, high), clipped to [0, 1]. se and the interval are None with one replicate."""
    matrix = as_wrong_matrix(wrong, "wrong")
    if matrix.size == 0:
        raise ValueError(f"mean_error_interval: need at least one replicate and one image, got {matrix.shape}")
    n, images = matrix.shape
    estimate = scalar_estimate(n, images, matrix.sum(axis=1), matrix.sum(axis=0))
    if estimate["se"] is None:
        return {**estimate, "low": None, "high": None}
    low, high = stats.t.interval(confidence, estimate["df"], loc=estimate["mean"], scale=estimate["se"])
    return {**estimate, "low": float(np.clip(low, 0, 1)), "high": float(np.clip(high, 0, 1))}


def finite_pairs(a, b) -> tuple[np.ndarray, np.ndarray]:
    """The paired values as two float arrays, without the pairs where either is NaN or infinite."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if len(a) != len(b):
        raise ValueError(f"beats: errors_a and errors_b must pair up replicates one to one, got {len(a)} and {len(b)}")
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def beats(errors_a, errors_b, confidence: float = 0.95) -> dict:
    """P(A beats B) over paired replicates' test errors: p = (wins + ties / 2) / n, with an exact interval.

    low is the Clopper-Pearson lower bound (one-sided at (1 - confidence) / 2) of A's wins, high the upper
    bound of wins + ties. Why it holds: P(A < B) <= P(A < B) + P(tie) / 2 <= P(A <= B); wins count
    P(A < B) and wins + ties count P(A <= B), each bound misses its own with probability at most
    (1 - confidence) / 2, so with at least the stated confidence both hold, and then the interval holds
    the target. Pairs with NaN are dropped; p and the interval are None where none is left.
    {n, a_wins, b_wins, ties, p, low, high}."""
    a, b = finite_pairs(errors_a, errors_b)
    n, a_wins, b_wins = len(a), int((a < b).sum()), int((b < a).sum())
    ties = n - a_wins - b_wins
    result = {"n": n, "a_wins": a_wins, "b_wins": b_wins, "ties": ties}
    if n == 0:
        return {**result, "p": None, "low": None, "high": None}
    low, high = clopper_pearson(a_wins, n, confidence)[0], clopper_pearson(a_wins + ties, n, confidence)[1]
    return {**result, "p": (a_wins + ties / 2) / n, "low": low, "high": high}
