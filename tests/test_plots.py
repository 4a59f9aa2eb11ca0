"""Plots: one colour per model in every figure, titles inside the figure, cells marked as the
grid says, labelled axes; every figure also saved once (dpi 80) to be looked at."""

import math
import os
import re
import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib import colors
from matplotlib import pyplot as plt
from matplotlib.collections import PathCollection
from matplotlib.text import Text

from digitstudy import figures
from digitstudy.figures import plot_comparison, plot_replicates
from digitstudy.models import MODELS
from digitstudy.plots import (
    ReadableLogTicks,
    class_errors,
    comparison,
    confusion_matrix,
    grid_heatmap,
    learning_curves,
    model_colour,
    pair_samples,
    plain_number,
    prediction_tiles,
    replicate_counts,
    replicates,
    save,
    tile_grid,
    tile_mosaic,
    weights_figure,
)


LONG_TITLE = "two_digit / cnn_dropout: first layer of lr 0.03, momentum 0.9 (chosen by validation error)"
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
REPLICATES_TITLE = "mnist: test error of the chosen models over their fresh replicates (ann 5, cnn 20, cnn_dropout 20)"


def history(epochs, scale=1.0, seed=0):
    """A plausible run's history: losses and errors falling with the epoch, a little noise."""
    noise = np.random.default_rng(seed).uniform(0.9, 1.1, size=(4, epochs))
    decay = scale / np.arange(1, epochs + 1)
    return pd.DataFrame(
        {
            "epoch": np.arange(1, epochs + 1),
            "train_loss": decay * noise[0],
            "train_error": 0.3 * decay * noise[1],
            "valid_loss": 1.2 * decay * noise[2],
            "valid_error": 0.35 * decay * noise[3],
        }
    )


def diverged_history():
    """A seed that blew up: three epochs, the last with non-finite losses."""
    table = history(3, seed=9)
    table.loc[2, ["train_loss", "valid_loss"]] = [np.nan, np.inf]
    table.loc[2, ["train_error", "valid_error"]] = [0.9, 0.9]
    return table


def grid():
    """A 3 x 3 lr x momentum grid: one chosen, one far worse, one diverged of each kind."""
    rows = []
    for lr in (0.01, 0.1, 1.0):
        for momentum in (0.0, 0.5, 0.9):
            rows.append(
                {
                    "lr": lr,
                    "momentum": momentum,
                    "status": "ok",
                    "reason": None,
                    "valid_error": 0.01 + 0.01 * lr + 0.005 * momentum,
                    "chosen": False,
                    "far_worse": False,
                }
            )
    table = pd.DataFrame(rows)
    table.loc[0, "chosen"] = True
    table.loc[6, ["valid_error", "far_worse"]] = [0.45, True]
    table.loc[7, ["status", "reason", "valid_error"]] = ["diverged", "non-finite loss", np.nan]
    table.loc[8, ["status", "reason", "valid_error"]] = [
        "diverged",
        "validation error at chance level (0.887) for 5 epochs",
        np.nan,
    ]
    return table


def class_table(n_classes=19):
    rng = np.random.default_rng(3)
    n = rng.integers(50, 1000, size=n_classes)
    errors = rng.binomial(n, 0.05)
    error = errors / n
    margin = 1.96 * np.sqrt(error * (1 - error) / n)
    table = pd.DataFrame(
        {
            "class": np.arange(n_classes),
            "n": n,
            "errors": errors,
            "error": error,
            "low": np.clip(error - margin, 0, 1),
            "high": error + margin,
        }
    )
    table.loc[n_classes - 1, ["n", "errors", "error", "low", "high"]] = [0, 0, np.nan, np.nan, np.nan]
    return table  # the last class without test images: no error to draw


def confusion(n_classes):
    rng = np.random.default_rng(4)
    matrix = rng.poisson(0.3, size=(n_classes, n_classes))
    matrix[np.diag_indices(n_classes)] = rng.integers(400, 1200, size=n_classes)
    return matrix


def worst():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(12, 1, 28, 56), dtype=np.uint8)
    truths = [f"true {a + b} ({a}+{b})" for a, b in rng.integers(0, 10, size=(12, 2))]
    predictions = [f"pred {value}" for value in rng.integers(0, 19, size=12)]
    confidences = list(rng.uniform(0.5, 1.0, size=12))
    return images, truths, predictions, confidences, "two_digit / cnn: most confident mistakes"


def worst_named():
    """Worst images of a dataset with class names, the longest names side by side."""
    rng = np.random.default_rng(8)
    truths = rng.integers(0, 10, size=12)
    truths[:2] = [0, 9]
    predictions = (truths + rng.integers(1, 10, size=12)) % 10
    predictions[:2] = [9, 0]
    images = rng.integers(0, 256, size=(12, 1, 28, 28), dtype=np.uint8)
    return (
        images,
        [f"true {FASHION[label]}" for label in truths],
        [f"pred {FASHION[label]}" for label in predictions],
        list(rng.uniform(0.5, 1.0, size=12)),
        "fashion / cnn: the 12 test images with the least probability on their label",
    )


# Each task's chosen models: (lr, mean test error, replicates). mnist's ann was decided after round 1, its
# cnn and cnn_dropout went on to the maximum of 20; twodigit's pair was decided after round 2.
TASK_MODELS = {
    "mnist": {"ann": (0.1, 0.019, 5), "cnn": (0.01, 0.012, 20), "cnn_dropout": (0.01, 0.011, 20)},
    "twodigit": {"cnn_dropout": (0.01, 0.031, 10), "lenet5": (0.1, 0.036, 10)},
}
DIVERGED = ("lenet5", 3, 0.059)  # twodigit's (model, replicate, test error) that diverged: late, half its test images


def replicate_tables(dataset="mnist", diverged=None):
    """A task's replicates.csv and variance.csv as tabulate_replicates writes them (TASK_MODELS; replicate
    i of every model sharing an effect, as its seed and split do); diverged: (model, replicate, test
    error) of a replicate that diverged, or None."""
    rng = np.random.default_rng(9)
    shared = rng.normal(0, 0.0004, size=20)
    rows = []
    for model, (lr, error, count) in TASK_MODELS[dataset].items():
        for replicate in range(1, count + 1):
            test_error = error + shared[replicate - 1] + rng.normal(0, 0.0003)
            rows.append(
                {
                    "dataset": dataset,
                    "model": model,
                    "replicate": replicate,
                    "round": 1 + (replicate - 1) // 5,
                    "seed": 1 + replicate,
                    "split_seed": replicate,
                    "lr": lr,
                    "momentum": 0.9,
                    "status": "ok",
                    "train_error": 0.001,
                    "valid_error": test_error,
                    "test_error": test_error,
                    "learned": True,
                }
            )
    runs = pd.DataFrame(rows)
    if diverged:
        model, replicate, test_error = diverged
        which = (runs["model"] == model) & (runs["replicate"] == replicate)
        runs.loc[which, ["status", "valid_error", "test_error", "learned"]] = ["diverged", 0.9, test_error, False]
    return runs, variance_of(runs)


def variance_of(runs, images=10_000):
    """variance.csv of `runs`, its columns as tabulate_replicates writes them: the mean over every
    replicate (diverged ones too) with a 95% interval whose standard error holds the replicates' spread
    and the sampling of `images` test images (near enough a normal interval for a picture)."""
    rows = []
    for model, group in runs.groupby("model", sort=False):
        errors = group["test_error"].astype(float)
        n, mean, sd = len(errors), errors.mean(), errors.std(ddof=1)
        se_images = np.sqrt(mean * (1 - mean) / images)
        se = np.sqrt(sd**2 / n + se_images**2)  # NaN for one replicate: no interval
        rows.append(
            {
                "dataset": group["dataset"].iloc[0],
                "model": model,
                "lr": group["lr"].iloc[0],
                "momentum": group["momentum"].iloc[0],
                "n": n,
                "test_error_mean": mean,
                "test_error_sd": sd,
                "test_error_se": se,
                "test_error_se_images": se_images,
                "test_error_low": np.clip(mean - 1.96 * se, 0, 1),
                "test_error_high": np.clip(mean + 1.96 * se, 0, 1),
                "valid_error_mean": group["valid_error"].mean(),
                "learned": int(group["learned"].sum()),
                "seed_n": 5,
                "seed_test_error_sd": 0.0005,
                "sd_ratio": sd / 0.0005,
                "sd_ratio_low": 0.5 * sd / 0.0005,
                "sd_ratio_high": 2 * sd / 0.0005,
            }
        )
    return pd.DataFrame(rows)


def compared_tasks():
    """comparison()'s argument: mnist's replicates and twodigit's, one of them diverged."""
    return {"mnist": replicate_tables("mnist"), "twodigit": replicate_tables("twodigit", DIVERGED)}


def pairs(count=16):
    """Pairs-dataset training images (28 x 56, two digits side by side) and the classes of their halves."""
    rng = np.random.default_rng(6)
    return rng.integers(0, 256, size=(count, 1, 28, 56), dtype=np.uint8), rng.integers(0, 10, size=(count, 2))


def weights_choice(model):
    return {"dataset": "mnist", "model": model, "chosen": {"lr": 0.03, "momentum": 0.9}}


FIGURES = {
    "curves": lambda: learning_curves(
        {0: history(20), 1: history(20, 1.1, 1), 2: diverged_history()}, "mnist / cnn: seed study", "cnn"
    ),
    "grid": lambda: grid_heatmap(grid(), "mnist / lenet5: validation error"),
    "tiles_6": lambda: tile_grid(np.random.default_rng(0).normal(size=(6, 5, 5)), LONG_TITLE),
    "tiles_8": lambda: tile_grid(np.random.default_rng(0).normal(size=(8, 3, 3)), LONG_TITLE),
    "tiles_100": lambda: tile_grid(np.random.default_rng(0).normal(size=(100, 28, 56)), LONG_TITLE),
    "comparison": lambda: comparison(compared_tasks()),
    "confusion_3": lambda: confusion_matrix(
        np.array([[50, 2, 0], [1, 40, 5], [0, 0, 60]]), "toy: confusion", ["zero", "one", "two"]
    ),
    "confusion_19": lambda: confusion_matrix(confusion(19), "two_digit / cnn: confusion on the test split"),
    "confusion_10": lambda: confusion_matrix(confusion(10), "mnist / cnn: confusion matrix (test)"),
    "confusion_fashion": lambda: confusion_matrix(confusion(10), "fashion / cnn: confusion matrix (test)", FASHION),
    "class_errors": lambda: class_errors(class_table(), "two_digit / cnn: test error per sum", "cnn"),
    "class_errors_10": lambda: class_errors(class_table(10), "mnist / cnn: test error per class", "cnn"),
    "class_errors_fashion": lambda: class_errors(
        class_table(10), "fashion / cnn: test error per class", "cnn", FASHION
    ),
    "worst": lambda: prediction_tiles(*worst()),
    "worst_fashion": lambda: prediction_tiles(*worst_named()),
    "replicates": lambda: replicates(*replicate_tables(), REPLICATES_TITLE),
    "replicates_twodigit": lambda: replicates(*replicate_tables("twodigit", DIVERGED), "twodigit: replicates"),
    "pairs": lambda: pair_samples(*pairs(), "two_digit"),
    # A Linear first layer (ann: 100 units of 28 x 28) and a convolution's kernels (cnn: 8 of 3 x 3)
    "weights_ann": lambda: weights_figure(
        weights_choice("ann"), (np.random.default_rng(1).normal(size=(100, 784)), (1, 28, 28))
    ),
    "weights_cnn": lambda: weights_figure(
        weights_choice("cnn"), (np.random.default_rng(2).normal(size=(8, 1, 3, 3)), (1, 28, 28))
    ),
    "weights_diverged": lambda: weights_figure({"dataset": "mnist", "model": "cnn", "chosen": None}, None),
}


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """Each figure built once and saved once (dpi 80) to a folder a person can look through."""
    folder = tmp_path_factory.mktemp("pictures")
    built = {name: build() for name, build in FIGURES.items()}
    for name, figure in built.items():
        figure.canvas.draw()
        figure.savefig(folder / f"{name}.png", dpi=80)
    yield built
    for figure in built.values():
        save(figure, folder / "last.png", 80)  # also closes it


@pytest.fixture(scope="module", autouse=True)
def open_figures():
    """`pictures` keeps every figure open for the tests that read it: more than pyplot's 20 before it warns."""
    with matplotlib.rc_context({"figure.max_open_warning": len(FIGURES) + 20}):
        yield


@pytest.fixture(autouse=True)
def close_new_figures():
    """Close the figures a test made itself (`pictures`, set up before, stays open for the others):
    pyplot keeps every figure until closed, and warns beyond 20."""
    before = set(plt.get_fignums())
    yield
    for number in set(plt.get_fignums()) - before:
        plt.close(number)


def hex_colour(colour):
    return colors.to_hex(colour)


def figure_texts(figure, content):
    """The figure's drawn texts (titles, labels) that read `content`."""
    return [text for text in figure.findobj(Text) if text.get_text() == content and text.get_visible()]


def inside(figure, text):
    """Whether a drawn Text lies wholly inside its figure."""
    box, frame = text.get_window_extent(), figure.bbox
    return box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1


def test_registered_models_have_distinct_colours_in_registry_order():
    colours = [model_colour(name) for name in MODELS]
    assert list(MODELS)[:4] == ["ann", "cnn", "cnn_dropout", "lenet5"]
    assert len(set(colours)) == len(colours)
    assert colours[:2] == [hex_colour("tab:blue"), hex_colour("tab:orange")]


def test_an_unregistered_model_colour_is_the_same_in_another_process():
    code = "from digitstudy.plots import model_colour; print(model_colour('resnet'))"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": os.pathsep.join(sys.path)}
    other = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert other.stdout.strip() == model_colour("resnet")
    assert model_colour("resnet") not in {model_colour(name) for name in MODELS}


def test_curves_and_comparison_draw_a_model_in_the_same_colour(pictures):
    curve_colours = {hex_colour(line.get_color()) for axes in pictures["curves"].axes for line in axes.lines}
    assert curve_colours == {model_colour("cnn")}
    for axes, (_, summary) in zip(pictures["comparison"].axes, compared_tasks().values()):
        points = model_points(axes)
        assert [hex_colour(marks.get_facecolor()[0]) for marks in points] == list(map(model_colour, summary["model"]))
    class_bars = pictures["class_errors"].axes[0].patches
    assert {hex_colour(bar.get_facecolor()) for bar in class_bars} == {model_colour("cnn")}


def test_curves_mean_is_per_epoch_over_the_seeds_that_reached_it():
    flat = pd.DataFrame(
        {"epoch": [1, 2, 3, 4], "train_loss": 1.0, "train_error": 0.1, "valid_loss": 1.0, "valid_error": 0.1}
    )
    short = pd.DataFrame(
        {
            "epoch": [1, 2, 3],
            "train_loss": [3.0, 3.0, np.nan],
            "train_error": 0.3,
            "valid_loss": [3.0, 3.0, np.inf],
            "valid_error": 0.3,
        }
    )
    figure = learning_curves({1: flat, 2: short}, "toy", "ann")
    thick = [line for line in figure.axes[0].lines if line.get_linewidth() > 2]
    assert [list(line.get_ydata()) for line in thick] == [[2.0, 2.0, 1.0, 1.0]] * 2


def test_curves_survive_a_seed_that_never_had_a_finite_value():
    dead = pd.DataFrame(
        {"epoch": [1], "train_loss": [np.nan], "train_error": [np.nan], "valid_loss": [np.inf], "valid_error": [np.nan]}
    )
    figure = learning_curves({0: history(5), 1: dead}, "toy", "lenet5")
    figure.canvas.draw()
    assert figure.axes[1].get_ylim()[0] > 0


def test_a_narrow_log_axis_still_shows_numbers():
    flat = history(6).assign(train_error=0.012, valid_error=np.linspace(0.013, 0.017, 6))
    figure = learning_curves({0: flat}, "toy", "ann")
    figure.canvas.draw()
    axis = figure.axes[1].yaxis
    shown = [label.get_text() for label in axis.get_ticklabels(which="both") if label.get_text()]
    low, high = figure.axes[1].get_ylim()
    assert sum(low <= float(text) <= high for text in shown) >= 2


def labelled_ticks(axis):
    """The numbers written at an axis's ticks that lie in its view."""
    low, high = sorted(axis.get_view_interval())
    texts = [label.get_text() for label in axis.get_ticklabels(which="both") if label.get_text()]
    return [text for text in texts if low <= float(text) <= high]


def test_curves_say_their_log_scale_and_label_it_in_plain_numbers(pictures):
    """Two epochs of a quick study, loss 0.27 to 1.05, gave one or two labels before; every panel of
    one epoch range or twenty now has at least three, written as plain numbers (0.05, not 5x10^-2)."""
    quick = pd.DataFrame(
        {"epoch": [1, 2], "train_loss": [1.05, 0.35], "train_error": [0.3, 0.11], "valid_loss": [0.4, 0.27]}
    ).assign(valid_error=[0.12, 0.1])
    for figure in (pictures["curves"], learning_curves({0: quick}, "toy", "cnn")):
        figure.canvas.draw()
        loss, error = figure.axes
        assert (loss.get_ylabel(), error.get_ylabel()) == (
            "cross-entropy loss, log scale",
            "misclassification (%), log scale",
        )
        for axes in (loss, error):
            assert axes.get_yscale() == "log"
            shown = labelled_ticks(axes.yaxis)
            assert len(shown) >= 3 and all(re.fullmatch(r"\d+(\.\d+)?", text) for text in shown), shown


@pytest.mark.parametrize("low, high", [(0.27, 1.05), (0.013, 0.017), (1.2, 1.7), (0.002, 2.5), (1, 126), (1e-5, 3)])
def test_a_log_axis_gets_enough_ticks_and_not_too_many(low, high):
    ticks = ReadableLogTicks().tick_values(low, high)
    assert 3 <= len(ticks) <= 8 and all(low <= tick <= high for tick in ticks), ticks
    assert all("e" not in plain_number(tick) for tick in ticks)


def test_confusion_counts_are_readable_at_the_reports_width(pictures):
    """The report shows a figure about 800 pixels wide (the full study's 120 dpi): every count of a
    19-class matrix, the diagonal's thousands too, is at least 10 pixels high there, and fits its cell."""
    for name in ("confusion_19", "confusion_10", "confusion_fashion"):
        figure = pictures[name]
        figure.set_dpi(120)
        figure.canvas.draw()
        axes = figure.axes[0]
        shrink = min(1.0, 800 / figure.bbox.width)
        cell = axes.get_window_extent().width / len(axes.get_xticks())
        counts = axes.texts
        assert counts and all(text.get_fontsize() / 72 * 120 * shrink >= 10 for text in counts), name
        assert all(text.get_window_extent().width < cell for text in counts), name


def test_curves_legend_explains_styles_not_seeds(pictures):
    labels = [text.get_text() for legend in pictures["curves"].legends for text in legend.get_texts()]
    assert labels == ["train, mean over the epoch's batches", "validation", "3 seeds, thin", "mean, thick"]


@pytest.mark.parametrize(
    "name",
    [
        "tiles_6",
        "tiles_8",
        "tiles_100",
        "worst",
        "worst_fashion",
        "grid",
        "comparison",
        "pairs",
        "weights_ann",
        "weights_cnn",
        "replicates",
        "replicates_twodigit",
    ],
)
def test_titles_lie_inside_the_figure(pictures, name):
    figure = pictures[name]
    assert figure.get_suptitle()
    titles = [
        text
        for label in (figure.get_suptitle(), figure.get_supxlabel())
        if label
        for text in figure_texts(figure, label)
    ]
    assert all(inside(figure, title) for title in titles)


def test_a_long_title_is_wrapped_not_shortened(pictures):
    lines = pictures["tiles_6"].get_suptitle().split("\n")
    assert len(lines) > 1 and " ".join(lines) == LONG_TITLE


def test_heatmap_marks_far_worse_and_diverged_cells(pictures):
    axes = pictures["grid"].axes[0]
    texts = [text.get_text() for text in axes.texts]
    assert "45.00\nfar worse" in texts
    assert "diverged\nnon-finite" in texts and "diverged\nchance" in texts
    assert any(text.endswith("chosen") for text in texts)
    assert sum(bool(patch.get_hatch()) for patch in axes.patches) == 2
    assert sum(patch.get_linestyle() == ":" for patch in axes.patches) == 1
    assert pictures["grid"].axes[1].get_ylabel() == "final validation error (%)"


def test_heatmap_reads_a_table_without_reason_or_far_worse():
    figure = grid_heatmap(grid().drop(columns=["reason", "far_worse"]), "older table")
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts.count("diverged") == 2 and not any("far worse" in text for text in texts)


def test_heatmap_of_a_grid_where_every_run_diverged():
    table = grid().assign(
        status="diverged", reason="non-finite loss", valid_error=np.nan, chosen=False, far_worse=False
    )
    figure = grid_heatmap(table, "every run diverged")
    figure.canvas.draw()
    assert [text.get_text() for text in figure.axes[0].texts] == ["diverged\nnon-finite"] * 9


def test_confusion_matrix_ticks_every_class_and_leaves_zero_cells_blank(pictures):
    figure = pictures["confusion_3"]
    axes, bar = figure.axes
    assert [label.get_text() for label in axes.get_xticklabels()] == ["zero", "one", "two"]
    assert len(axes.get_yticks()) == 3 and bar.get_ylabel() == "test images, log scale"
    assert axes.images[0].get_array().mask.sum() == 3
    assert len(pictures["confusion_19"].axes[0].get_xticks()) == 19


def test_class_errors_name_each_class_with_its_count(pictures):
    labels = [label.get_text() for label in pictures["class_errors"].axes[0].get_xticklabels()]
    assert len(labels) == 19 and labels[0].startswith("0\n(n=") and labels[-1] == "18\n(n=0)"


def test_worst_predictions_titles_each_tile_with_truth_prediction_and_probability(pictures):
    titles = [axes.get_title() for axes in pictures["worst"].axes]
    assert len(titles) == 12 and all(title.startswith("true ") and "\npred " in title for title in titles)
    assert titles[0].endswith(f"p={worst()[3][0]:.2f}")


def test_weight_tiles_are_one_image_each_tile_on_its_own_symmetric_scale():
    # Three 2 x 2 tiles, two to a row. Each pixel becomes a 14 x 14 block (ceil(28 / 2)), so a tile is
    # 28 x 28 with make_grid's 2 blank pixels around it: tile (row r, column c) starts at 2 + 30r, 2 + 30c.
    tiles = np.array([[[1.0, -2.0], [0.0, 4.0]], [[-3.0, 0.0], [0.0, 1.5]], [[0.0, 0.0], [0.0, 0.0]]])
    mosaic = tile_mosaic(tiles, columns=2)
    assert mosaic.shape == (2 + 2 * 30, 2 + 2 * 30)
    scaled = [tiles[0] / 4, tiles[1] / 3, tiles[2]]  # by the largest |value|; the zero tile stays 0
    for index, (row, column) in enumerate([(0, 0), (0, 1), (1, 0)]):
        top, left = 2 + 30 * row, 2 + 30 * column
        np.testing.assert_array_equal(
            mosaic[top : top + 28, left : left + 28], np.kron(scaled[index], np.ones((14, 14)))
        )
    # Everything else (gaps, border, the fourth slot) is NaN, which imshow leaves blank
    assert np.isnan(mosaic).sum() == mosaic.size - 3 * 28 * 28
    figure = tile_grid(tiles, "three tiles", columns=2)
    (axes,) = figure.axes
    image = axes.images[0]
    assert not axes.axison and image.get_cmap().name == "RdBu_r" and image.get_clim() == (-1, 1)


@pytest.mark.parametrize("count, columns", [(1, 4), (3, 2), (8, 4), (7, 3), (100, 10)])
def test_weight_tiles_are_laid_out_as_torchvisions_make_grid(count, columns):
    """The layout of make_grid (2 pixels of gap, one tile alone without it), which it replaced."""
    import torch
    from torchvision.utils import make_grid

    tiles = np.random.default_rng(count).normal(size=(count, 5, 5))
    scaled = tiles / np.abs(tiles).max(axis=(1, 2), keepdims=True)
    blocks = torch.from_numpy(scaled.repeat(6, axis=1).repeat(6, axis=2))[:, None]  # ceil(28 / 5) = 6
    reference = make_grid(blocks, nrow=columns, padding=2, pad_value=math.nan)[0].numpy()
    np.testing.assert_array_equal(tile_mosaic(tiles, columns), reference)


def test_weights_figure_shows_one_tile_per_unit(pictures):
    # ann: 10 x 10 tiles of 28 x 28 pixels (block 1); cnn: 8 kernels of 3 x 3, enlarged to 30 x 30, 3 to a row
    assert pictures["weights_ann"].axes[0].images[0].get_array().shape == (2 + 10 * 30, 2 + 10 * 30)
    assert pictures["weights_cnn"].axes[0].images[0].get_array().shape == (2 + 3 * 32, 2 + 3 * 32)
    assert pictures["weights_cnn"].get_suptitle().replace("\n", " ").startswith("mnist / cnn: first-layer weights")
    assert "every run diverged" in pictures["weights_diverged"].get_suptitle().replace("\n", " ")


def test_pair_samples_titles_each_image_with_its_classes_and_their_sum(pictures):
    images, classes = pairs()
    titles = [axes.get_title() for axes in pictures["pairs"].axes]
    assert titles == [f"{left} + {right} = {left + right}" for left, right in classes]
    # A split of fewer images than asked for: the empty places are blank, not empty frames
    figure = pair_samples(images[:6], classes[:6], "two_digit")
    assert len(figure.axes) == 16 and not any(axes.axison for axes in figure.axes)
    assert sum(bool(axes.images) for axes in figure.axes) == 6


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_axis_is_labelled(pictures, name):
    for axes in pictures[name].axes:
        if not axes.axison:
            continue  # an image tile
        if axes.get_label() == "<colorbar>":
            assert axes.get_ylabel(), f"{name}: colour bar without a label"
            continue
        assert axes.get_xlabel() and axes.get_ylabel(), f"{name}: an axis without a label"


def test_a_model_without_a_wrong_test_image_gets_a_picture_saying_so(tmp_path):
    figure = prediction_tiles(np.zeros((0, 1, 28, 28), np.uint8), [], [], [], "mnist / ann: the 0 test images")
    texts = [text.get_text() for axis in figure.axes for text in axis.texts]
    assert texts == ["no test image is misclassified"]
    save(figure, tmp_path / "worst.png", dpi=60)
    assert (tmp_path / "worst.png").stat().st_size > 0


def tick_texts(labels):
    return [label.get_text() for label in labels]


def overlapping(texts):
    """Whether any two of the drawn Texts touch."""
    boxes = [text.get_window_extent() for text in texts if text.get_text()]
    return any(a.overlaps(b) for index, a in enumerate(boxes) for b in boxes[index + 1 :])


def every_text_inside(figure, tolerance=0.01):
    """Whether all the figure draws (titles, tick labels, legend) lies inside it (inches)."""
    figure.canvas.draw()
    drawn, frame = figure.get_tightbbox(figure.canvas.get_renderer()), figure.bbox_inches
    return (
        drawn.x0 >= frame.x0 - tolerance
        and drawn.y0 >= frame.y0 - tolerance
        and drawn.x1 <= frame.x1 + tolerance
        and drawn.y1 <= frame.y1 + tolerance
    )


@pytest.mark.parametrize(
    "name", ["confusion_fashion", "confusion_10", "class_errors_fashion", "class_errors_10", "worst_fashion"]
)
def test_class_names_and_labels_lie_inside_the_figure(pictures, name):
    assert every_text_inside(pictures[name])


def test_confusion_matrix_names_classes_tilting_long_names(pictures):
    axes = pictures["confusion_fashion"].axes[0]
    assert tick_texts(axes.get_xticklabels()) == FASHION and tick_texts(axes.get_yticklabels()) == FASHION
    assert {label.get_rotation() for label in axes.get_xticklabels()} == {45}
    assert not overlapping(axes.get_yticklabels())
    for name in ("confusion_10", "confusion_19"):  # digits and sums: level, as before
        axes = pictures[name].axes[0]
        labels = axes.get_xticklabels()
        assert tick_texts(labels) == [str(label) for label in range(len(labels))]
        assert {label.get_rotation() for label in labels} == {0} and not overlapping(labels)


def test_class_errors_name_each_class_when_names_are_given(pictures):
    labels = pictures["class_errors_fashion"].axes[0].get_xticklabels()
    assert [text.split("\n")[0] for text in tick_texts(labels)] == FASHION
    assert not overlapping(labels)
    digits = tick_texts(pictures["class_errors_10"].axes[0].get_xticklabels())
    assert [text.split("\n")[0] for text in digits] == [str(label) for label in range(10)]


def test_class_errors_tilt_names_too_long_to_stand_side_by_side():
    names = [f"a class with a rather long descriptive name, number {label}" for label in range(10)]
    figure = class_errors(class_table(10), "long names", "cnn", names)
    labels = figure.axes[0].get_xticklabels()
    assert {label.get_rotation() for label in labels} == {45} and every_text_inside(figure)


def test_worst_predictions_name_truth_and_prediction_without_overlap(pictures):
    titles = [axes.title for axes in pictures["worst_fashion"].axes]
    assert titles[0].get_text().startswith("true T-shirt/top\npred Ankle boot, p=")
    assert not overlapping(titles)


GREY, RED = hex_colour("0.65"), hex_colour("darkred")


def grey_lines(axes):
    """The thin grey lines that join replicate i across models, in replicate order."""
    return [line for line in axes.lines if hex_colour(line.get_color()) == GREY]


def scatters(axes, red=False):
    """The point sets drawn: each model's in its colour (red=False), or the diverged replicates' crosses."""
    drawn = [marks for marks in axes.collections if isinstance(marks, PathCollection)]
    return [marks for marks in drawn if (hex_colour(marks.get_facecolor()[0]) == RED) == red]


def model_points(axes):
    """Each model's points, in the order the models are drawn."""
    return scatters(axes)


def marks(axes, marker):
    """The (x, y) of the marks drawn with `marker`: means 'D', caps '_', triangles on an edge '^' 'v'."""
    lines = [line for line in axes.lines if line.get_marker() == marker]
    return np.array([point for line in lines for point in line.get_xydata()]).reshape(-1, 2)


def legend_texts(figure):
    return [text.get_text() for legend in figure.legends for text in legend.get_texts()]


def recorded(monkeypatch):
    """The figures that figures.py saves (still saved), each kept with whether all it draws at the dpi
    it is saved at lies inside it (saving closes it, and a closed figure draws no more)."""
    kept = []

    def keep(figure, path, dpi):
        figure.set_dpi(dpi)
        kept.append((figure, every_text_inside(figure)))
        save(figure, path, dpi)

    monkeypatch.setattr(figures, "save", keep)
    return kept


def test_replicates_pair_each_replicate_across_models(pictures):
    figure = pictures["replicates"]
    axes = figure.axes[0]
    runs, summary = replicate_tables()
    lines = grey_lines(axes)
    # Replicate 1-5 of all three models, 6-20 of cnn and cnn_dropout only (ann was decided in round 1)
    assert [len(line.get_xdata()) for line in lines] == [3] * 5 + [2] * 15
    for line, (_, pair) in zip(lines, runs.groupby("replicate")):
        np.testing.assert_allclose(line.get_ydata(), 100 * pair["test_error"].to_numpy())
    points = model_points(axes)
    assert [hex_colour(marks.get_facecolor()[0]) for marks in points] == [model_colour(m) for m in summary["model"]]
    assert [len(marks.get_offsets()) for marks in points] == [5, 20, 20] and not scatters(axes, red=True)
    np.testing.assert_allclose(marks(axes, "D")[:, 1], 100 * summary["test_error_mean"])
    assert tick_texts(axes.get_xticklabels()) == [
        "ann\nlr 0.1, momentum 0.9",
        "cnn\nlr 0.01, momentum 0.9",
        "cnn_dropout\nlr 0.01, momentum 0.9",
    ]
    assert axes.get_ylabel() == "test error (%), test split" and "model" in axes.get_xlabel()
    assert legend_texts(figure) == [
        "one replicate's test error (model's colour)",
        "replicate i of each model (same seed, same split)",
        "mean, 95% interval: replicates and test images",
    ]
    assert every_text_inside(figure) and not overlapping(axes.get_xticklabels())


def test_plot_replicates_titles_the_figure_with_each_models_replicates(tmp_path, monkeypatch):
    kept = recorded(monkeypatch)
    runs, summary = replicate_tables()
    runs.to_csv(tmp_path / "replicates.csv", index=False)
    summary.to_csv(tmp_path / "variance.csv", index=False)
    plot_replicates("mnist", tmp_path / "replicates.csv", tmp_path / "variance.csv", tmp_path / "replicates.png", 80)
    assert (tmp_path / "replicates.png").stat().st_size > 0
    (figure, all_inside), *_ = kept
    assert figure.get_suptitle().replace("\n", " ") == REPLICATES_TITLE and all_inside
    assert replicate_counts(runs, summary["model"]) == "ann 5, cnn 20, cnn_dropout 20"


def test_replicates_axis_holds_points_and_means_and_marks_a_long_interval_on_the_edge():
    runs, summary = replicate_tables()
    # ann's interval up to 6% (three times its error), cnn_dropout's down to 0: both far beyond the points
    summary.loc[0, "test_error_high"], summary.loc[2, "test_error_low"] = 0.06, 0.0
    figure = replicates(runs, summary, "mnist: long intervals")
    axes = figure.axes[0]
    bottom, top = axes.get_ylim()
    shown = np.concatenate([100 * runs["test_error"], 100 * summary["test_error_mean"]])
    assert bottom <= shown.min() and shown.max() <= top
    assert top < 6 and bottom > 0 and top - bottom <= 1.71 * np.ptp(shown)  # at most 0.1 + 0.25 of it each side
    mean_x = marks(axes, "D")[:, 0]
    np.testing.assert_allclose(marks(axes, "^"), [[mean_x[0], top]])
    np.testing.assert_allclose(marks(axes, "v"), [[mean_x[2], bottom]])
    assert sorted(marks(axes, "_")[:, 0]) == sorted([mean_x[0], mean_x[1], mean_x[1], mean_x[2]])  # the ends inside
    (intervals,) = [marks for marks in axes.collections if not isinstance(marks, PathCollection)]
    ends = np.array([segment[:, 1] for segment in intervals.get_segments()])
    assert ends.min() >= bottom and ends.max() <= top  # drawn to the edge, not past it
    assert legend_texts(figure)[-1] == "the interval goes on beyond the axis"
    assert every_text_inside(figure)


def test_replicates_axis_takes_in_an_interval_a_little_longer_than_the_points():
    runs, summary = replicate_tables()
    figure = replicates(runs, summary, "mnist")
    bottom, top = figure.axes[0].get_ylim()
    assert bottom < 100 * summary["test_error_low"].min() and 100 * summary["test_error_high"].max() < top
    assert not len(marks(figure.axes[0], "^")) and not len(marks(figure.axes[0], "v"))


@pytest.mark.parametrize("error, beyond", [(0.059, True), (0.037, False)])
def test_replicates_draw_a_diverged_replicate_in_the_mean(error, beyond):
    runs, summary = replicate_tables("twodigit", ("lenet5", 3, error))
    figure = replicates(runs, summary, "twodigit")
    axes = figure.axes[0]
    bottom, top = axes.get_ylim()
    (crosses,) = scatters(axes, red=True)
    (_, y), mean_lenet5 = crosses.get_offsets()[0], marks(axes, "D")[1, 1]
    assert mean_lenet5 == pytest.approx(100 * runs.loc[runs["model"] == "lenet5", "test_error"].mean())
    assert y == pytest.approx(top if beyond else 100 * error)
    assert [len(points.get_offsets()) for points in model_points(axes)] == [10, 9]
    assert [text.get_text() for text in axes.texts] == ([f"{100 * error:.3g}%"] if beyond else [])
    # Its paired line ends on its cross: the replicate is compared like the others
    assert grey_lines(axes)[2].get_ydata()[1] == pytest.approx(y)
    assert tick_texts(axes.get_xticklabels())[1] == "lenet5\nlr 0.1, momentum 0.9\n1 diverged"
    far = " (beyond the axis: on its edge, its error written)" if beyond else ""
    assert f"a diverged replicate, in the mean{far}" in legend_texts(figure)
    shown = 100 * runs.loc[runs["status"] == "ok", "test_error"]
    assert bottom <= shown.min() and max(shown.max(), mean_lenet5) <= top and every_text_inside(figure)


def test_replicates_of_a_model_with_one_replicate_show_its_mean_without_interval(tmp_path):
    runs, _ = replicate_tables()
    runs = runs[(runs["model"] != "ann") | (runs["replicate"] == 1)]
    runs.to_csv(tmp_path / "replicates.csv", index=False)
    variance_of(runs).to_csv(tmp_path / "variance.csv", index=False)  # ann: n = 1, sd, se, low, high empty
    figure = replicates(pd.read_csv(tmp_path / "replicates.csv"), pd.read_csv(tmp_path / "variance.csv"), "toy")
    axes = figure.axes[0]
    assert tick_texts(axes.get_xticklabels())[0] == "ann\nlr 0.1, momentum 0.9\nno interval (n < 2)"
    means = marks(axes, "D")
    assert len(means) == 3 and means[0, 1] == pytest.approx(100 * runs["test_error"].iloc[0])
    (intervals,) = [marks for marks in axes.collections if not isinstance(marks, PathCollection)]
    assert [segment[0, 0] for segment in intervals.get_segments()] == list(means[1:, 0])
    assert every_text_inside(figure)


def test_comparison_gives_each_task_a_panel_on_its_own_scale(pictures):
    figure, tasks = pictures["comparison"], compared_tasks()
    assert [axes.get_title() for axes in figure.axes] == list(tasks)
    limits = [axes.get_ylim() for axes in figure.axes]
    assert limits[0][1] < limits[1][0]  # mnist's whole axis lies below twodigit's: one axis would flatten it
    for axes, (runs, summary) in zip(figure.axes, tasks.values()):
        bottom, top = axes.get_ylim()
        healthy = runs[runs["status"] == "ok"]
        drawn = np.concatenate([points.get_offsets()[:, 1] for points in model_points(axes)])
        np.testing.assert_allclose(drawn, 100 * healthy["test_error"])
        assert bottom <= drawn.min() and drawn.max() <= top
        np.testing.assert_allclose(marks(axes, "D")[:, 1], 100 * summary["test_error_mean"])
        counts = runs["model"].value_counts()
        assert [text.split("\n")[:2] for text in tick_texts(axes.get_xticklabels())] == [
            [model, f"{counts[model]} replicates"] for model in summary["model"]
        ]
        assert axes.get_ylabel() == "test error (%), test split" and not overlapping(axes.get_xticklabels())
    assert "a diverged replicate, in the mean (beyond the axis: on its edge, its error written)" in legend_texts(figure)


@pytest.mark.parametrize("dpi", [80, 120])
def test_plot_comparison_reads_each_tasks_tables(tmp_path, monkeypatch, dpi):
    kept, paths = recorded(monkeypatch), {"replicates": [], "variance": []}
    for dataset, tables in compared_tasks().items():
        for kind, table in zip(paths, tables):
            table.to_csv(tmp_path / f"{dataset}_{kind}.csv", index=False)
            paths[kind].append(tmp_path / f"{dataset}_{kind}.csv")
    plot_comparison(paths["replicates"], paths["variance"], tmp_path / "comparison.png", dpi)
    assert (tmp_path / "comparison.png").stat().st_size > 0
    ((figure, all_inside),) = kept
    assert [axes.get_title() for axes in figure.axes] == ["mnist", "twodigit"] and all_inside
