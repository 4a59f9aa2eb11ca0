"""The study's pictures. Each function returns a matplotlib Figure; the rule script saves it."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the file-only backend)
from matplotlib import ticker  # noqa: E402
import numpy as np  # noqa: E402

from .files import atomic_path  # noqa: E402

SPLIT_STYLE = {"train": "--", "valid": "-"}


def learning_curves(histories, title):
    """Loss and misclassification per epoch, train dashed and valid solid, one colour per seed."""
    figure, (loss_axes, error_axes) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for index, (seed, history) in enumerate(sorted(histories.items())):
        colour = f"C{index % 10}"
        for split, style in SPLIT_STYLE.items():
            label = f"seed {seed} {split}"
            loss_axes.plot(history["epoch"], history[f"{split}_loss"], style, color=colour, label=label)
            error_axes.plot(history["epoch"], 100 * history[f"{split}_error"], style, color=colour, label=label)
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log")
    error_axes.set(xlabel="epoch", ylabel="misclassification (%)", yscale="log")
    for axes in (loss_axes, error_axes):
        axes.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        axes.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
        axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    error_axes.legend(fontsize="x-small", ncol=2)
    figure.suptitle(title)
    return figure


def grid_heatmap(grid, title):
    """Validation error over lr x momentum; diverged cells hatched and labelled, the chosen one boxed."""
    lrs, momenta = sorted(grid["lr"].unique()), sorted(grid["momentum"].unique())
    values = np.full((len(lrs), len(momenta)), np.nan)
    figure, axes = plt.subplots(figsize=(1.6 * len(momenta) + 2.5, 0.8 * len(lrs) + 2), layout="constrained")
    for _, row in grid.iterrows():
        i, j = lrs.index(row["lr"]), momenta.index(row["momentum"])
        if row["status"] == "ok":
            values[i, j] = 100 * row["valid_error"]
            axes.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=9)
        else:
            axes.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="xx", color="grey"))
            axes.text(j, i, "diverged", ha="center", va="center", fontsize=8, color="darkred")
        if row["chosen"]:
            axes.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, linewidth=3, color="black"))
    image = axes.imshow(values, cmap="YlOrRd", aspect="auto")
    figure.colorbar(image, ax=axes, label="validation error (%)")
    axes.set(xticks=range(len(momenta)), xticklabels=[f"{m:g}" for m in momenta], xlabel="momentum",
             yticks=range(len(lrs)), yticklabels=[f"{lr:g}" for lr in lrs], ylabel="learning rate")
    axes.set_title(title)
    return figure


def tile_grid(tiles, title, columns=None):
    """Small images (n x h x w) in a grid, each scaled to its own symmetric range (0 is grey)."""
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    height, width = tiles.shape[1:]
    tile = 0.6  # inches per tile row
    figure, axes = plt.subplots(rows, columns, squeeze=False, layout="constrained",
                                figsize=(columns * tile * width / height + 0.4, rows * tile + 0.6))
    for index, axis in enumerate(axes.flat):
        axis.set_axis_off()
        if index < len(tiles):
            limit = np.abs(tiles[index]).max() or 1.0
            axis.imshow(tiles[index], cmap="RdBu_r", vmin=-limit, vmax=limit)
    figure.suptitle(title)
    return figure


def first_layer_tiles(weight, image_shape):
    """One picture per unit: a Linear layer's rows as images, or a convolution's kernels."""
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim == 2:
        weight = weight.reshape(len(weight), *image_shape)
    return weight.mean(axis=1)  # over input channels (there is one here)


def comparison(choices):
    """Validation and test error of each experiment's chosen run, with the seed study's spread."""
    names = [f"{c['dataset']}\n{c['model']}" for c in choices]
    position = np.arange(len(choices))
    figure, axes = plt.subplots(figsize=(1.6 * len(choices) + 2, 4), layout="constrained")
    for offset, split, colour in ((-0.2, "valid", "C0"), (0.2, "test", "C1")):
        chosen = [100 * c["chosen"][f"{split}_error"] if c["chosen"] else np.nan for c in choices]
        spread = [100 * (c["seed_study"][f"{split}_error_sd"] or 0) for c in choices]
        axes.bar(position + offset, chosen, 0.4, color=colour, label=f"chosen run, {split}")
        axes.errorbar(position + offset, [100 * c["seed_study"][f"{split}_error_mean"] for c in choices],
                      yerr=spread, fmt="o", color="black", markersize=3,
                      label="seed study mean \u00b1 sd" if split == "valid" else None)
    axes.set(xticks=position, xticklabels=names, ylabel="misclassification (%)")
    axes.legend(fontsize="small")
    axes.set_title("Chosen models of the two tasks")
    return figure


def two_digit_samples(images, digits, count=16):
    """The first `count` two-digit images with their digits and sum."""
    columns = 4
    figure, axes = plt.subplots(math.ceil(count / columns), columns, figsize=(8, 1.2 * count / columns + 0.5),
                                layout="constrained")
    for axis, image, (left, right) in zip(axes.flat, images[:count], digits[:count]):
        axis.imshow(image[0], cmap="gray_r")
        axis.set_title(f"{left} + {right} = {left + right}", fontsize=9)
        axis.set_axis_off()
    return figure


def save(figure, path, dpi):
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png")
    plt.close(figure)
