"""The study's pictures. Each function returns a matplotlib Figure; the rule script saves it."""

import hashlib
import math
import textwrap

import matplotlib


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the file-only backend)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import colors, ticker  # noqa: E402
from matplotlib.legend_handler import HandlerTuple  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from .classes import class_name  # noqa: E402
from .files import atomic_path  # noqa: E402
from .models import MODELS  # noqa: E402


PALETTE = [colors.to_hex(colour) for colour in matplotlib.colormaps["tab10"].colors]
SPLITS = {"train": ("--", "train, mean over the epoch's batches"), "valid": ("-", "validation")}
SHORT_REASONS = {"non-finite": "non-finite", "validation error at chance": "chance"}
TILE_INCHES = (0.6, 1.2)  # a weight tile's height: the least that reads, the most worth the space
# Counts of 1 must not look like the blank zero cells: the palette starts at a visible blue.
COUNT_COLOURS = colors.LinearSegmentedColormap.from_list("counts", plt.cm.Blues(np.linspace(0.2, 1, 256)))
REPLICATE_LINE = {"color": "0.65", "linewidth": 0.8}
DIVERGED_MARK = {"marker": "x", "color": "darkred"}
MEAN_OFFSET = 0.24  # a model's mean and interval, right of its replicates (replicate_positions)
# A confusion matrix and its tick labels fill this many inches at the most, whatever its class count (a
# figure about 800 pixels wide at 120 dpi, as wide as the report shows it): a larger one the report
# would shrink, and its counts with it.
MATRIX_INCHES = 5.5
DIGIT_EMS = 0.64  # a digit's width in ems in matplotlib's font (DejaVu Sans)
INTERVAL_LABEL = "mean, 95% interval: replicates and test images"
COMPARISON_TITLE = (
    "The tasks compared: test error of the chosen models over their fresh replicates, each task on its own scale"
)


def model_colour(model):
    """One colour per model everywhere: registry order picks it, so adding a model moves none."""
    names = list(MODELS)
    if model in names:
        return PALETTE[names.index(model) % len(PALETTE)]
    # Unregistered names take the colours the registry leaves free; sha256 because hash() is
    # salted per process and the colour must not change between two rule jobs.
    spare = PALETTE[len(names) :] or PALETTE
    return spare[int(hashlib.sha256(model.encode()).hexdigest(), 16) % len(spare)]


def fit_text(figure, text, margin=0.96):
    """Rewrap `text` (a Text of `figure`) until its widest line fits inside the figure."""
    renderer, words = figure.canvas.get_renderer(), text.get_text().replace("\n", " ")
    available = margin * figure.bbox.width
    width = len(words)
    while width > 8 and text.get_window_extent(renderer).width > available:
        scale = available / text.get_window_extent(renderer).width
        width = min(width - 1, int(width * scale) + 1)
        text.set_text(textwrap.fill(words, width, break_on_hyphens=False))
    return text


def fitted_title(figure, title):
    """The figure's title, wrapped to the figure's width: it is never clipped at the edges."""
    return fit_text(figure, figure.suptitle(title))


def infinite_as_nan(values):
    """Values as floats, NaN kept and inf replaced by NaN: every plot draws both as a gap."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def seed_mean(histories, column):
    """Per epoch, the mean over the seeds that reached it with a finite value (a Series by epoch).
    Not only the epochs every seed reached: one diverged seed would cut short the others' mean."""
    table = pd.concat({seed: history.set_index("epoch")[column] for seed, history in histories.items()}, axis=1)
    return table.apply(infinite_as_nan).mean(axis=1)  # pandas skips the NaN of seeds that stopped early


def curve_legend(figure, n_seeds, colour):
    """A legend of line styles (split, seed vs mean), not one entry per seed."""
    handles = [Line2D([], [], color="grey", linestyle=style, label=label) for style, label in SPLITS.values()]
    handles += [
        Line2D([], [], color=colour, alpha=0.35, linewidth=1, label=f"{n_seeds} seeds, thin"),
        Line2D([], [], color=colour, linewidth=2.5, label="mean, thick"),
    ]
    return figure.legend(handles=handles, loc="outside lower center", ncol=4, fontsize="small")


def plain_number(value, position=None):
    """A tick's number as written by hand: 0.05, 1.25, 20, 0.00001 (not 5x10^-2 or 1e-05)."""
    return np.format_float_positional(float(f"{value:.6g}"), trim="-")


def decade_ticks(low, high, mantissas):
    """The numbers m x 10^k (m in `mantissas`) from `low` to `high`, each exact as written (0.3, not
    0.30000000000000004)."""
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    return [value for k in decades for m in mantissas if low <= (value := float(f"{m}e{k}")) <= high]


class ReadableLogTicks(ticker.Locator):
    """Enough ticks to read a log axis by, `least` to `most` in view where it can: 1, 2 and 5 of each
    decade; the decades alone where those crowd (an axis of several decades); every whole mantissa 1-9
    where 1, 2 and 5 are too few; evenly spaced plain numbers where even those are (a narrow axis)."""

    def __init__(self, least=3, most=8):
        self.least, self.most = least, most

    def __call__(self):
        return self.tick_values(*self.axis.get_view_interval())

    def tick_values(self, vmin, vmax):
        low, high = sorted((vmin, vmax))
        if not (low > 0 and math.isfinite(high)):
            return []
        ticks = decade_ticks(low, high, (1, 2, 5))
        if len(ticks) > self.most:
            return decade_ticks(low, high, (1,))
        if len(ticks) < self.least:
            ticks = decade_ticks(low, high, range(1, 10))
        if len(ticks) < self.least:
            even = ticker.MaxNLocator(nbins=self.most - 2, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
            ticks = [value for value in even if low <= value <= high]
        return ticks


def log_ticks(axis):
    """A log axis (of a plot or a colour bar) ticked with ReadableLogTicks, in plain numbers; its minor
    ticks unlabelled."""
    axis.set_major_locator(ReadableLogTicks())
    axis.set_major_formatter(ticker.FuncFormatter(plain_number))
    axis.set_minor_formatter(ticker.NullFormatter())
    return axis


def log_axes(axes, ylabel):
    """A learning-curve panel: epochs on x (whole numbers), `ylabel` on a log y that says so."""
    axes.set(xlabel="epoch", ylabel=f"{ylabel}, log scale", yscale="log")
    log_ticks(axes.yaxis)
    axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    return axes


def learning_curves(histories, title, model):
    """Loss and misclassification per epoch: each seed thin, their mean thick, train dashed."""
    figure, panels = plt.subplots(1, 2, figsize=(10, 4.4), layout="constrained")
    colour, histories = model_colour(model), dict(sorted(histories.items()))
    for axes, metric, scale in ((panels[0], "loss", 1), (panels[1], "error", 100)):
        for split, (style, _) in SPLITS.items():
            column = f"{split}_{metric}"
            for history in histories.values():
                axes.plot(
                    history["epoch"],
                    scale * infinite_as_nan(history[column]),
                    style,
                    color=colour,
                    alpha=0.35,
                    linewidth=1,
                )
            mean = seed_mean(histories, column)
            axes.plot(mean.index, scale * mean.to_numpy(), style, color=colour, linewidth=2.5)
    log_axes(panels[0], "cross-entropy loss")
    log_axes(panels[1], "misclassification (%)")
    curve_legend(figure, len(histories), colour)
    fitted_title(figure, title)
    return figure


def text_colour(rgba):
    """Black on light cells, white on dark ones (perceived luminance)."""
    red, green, blue = rgba[:3]
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


def short_reason(reason):
    """'non-finite' or 'chance' from a run's stop reason; '' when the reason is unknown."""
    reason = reason if isinstance(reason, str) else ""
    return next((short for start, short in SHORT_REASONS.items() if reason.startswith(start)), "")


def grid_values(grid, lrs, momenta):
    """Final validation error (%) as an lr x momentum array, NaN where a run diverged; and
    where the far-worse cells are."""
    values, far_worse = np.full((len(lrs), len(momenta)), np.nan), np.zeros((len(lrs), len(momenta)), bool)
    for _, row in grid[grid["status"] == "ok"].iterrows():
        cell = lrs.index(row["lr"]), momenta.index(row["momentum"])
        values[cell], far_worse[cell] = 100 * row["valid_error"], flag(row, "far_worse")
    return values, far_worse


def error_norm(values, far_worse):
    """The colour scale of the cells that are not far worse (those are labelled, and would wash
    out the differences that matter); log when the errors span a decade, else linear."""
    shown = values[np.isfinite(values) & (values > 0) & ~far_worse]
    if not shown.size:
        return colors.Normalize()
    if shown.max() / shown.min() >= 10:
        return colors.LogNorm(shown.min(), shown.max())
    return colors.Normalize(shown.min(), shown.max() if shown.max() > shown.min() else shown.min() + 1)


def flag(row, column):
    """A bool column's value in a grid row; False where the column or the value is missing."""
    value = row.get(column, False)
    return False if pd.isna(value) else bool(value)


def cell_label(row, value):
    """The lines written in one heatmap cell."""
    if row["status"] != "ok":
        return "\n".join(filter(None, ["diverged", short_reason(row.get("reason"))]))
    lines = [f"{value:.2f}"]
    lines += ["far worse"] if flag(row, "far_worse") else []
    return "\n".join(lines + (["chosen"] if flag(row, "chosen") else []))


def cell_outline(axes, row, i, j, ink):
    """Hatching over a diverged cell, a dotted frame inside a far-worse one, a box round the chosen."""
    if row["status"] != "ok":
        axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="xx", color="0.6", linewidth=0))
    elif flag(row, "far_worse"):
        axes.add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False, linestyle=":", linewidth=2, color=ink))
    if flag(row, "chosen"):
        axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, linewidth=3, color="black"))
    return axes


def mark_cell(axes, row, i, j, image):
    """Outline one heatmap cell as its run ended and write its value or fate in it."""
    value = image.get_array()[i, j]
    ink = text_colour(image.cmap(image.norm(value))) if row["status"] == "ok" else "darkred"
    cell_outline(axes, row, i, j, ink)
    if row["status"] != "ok":  # on a white ground: hatching behind letters makes them hard to read
        style = {"bbox": {"facecolor": "white", "edgecolor": "none", "pad": 1.5}}
    else:
        style = {"fontweight": "bold" if flag(row, "chosen") else "normal"}
    return axes.text(j, i, cell_label(row, value), ha="center", va="center", fontsize=8.5, color=ink, **style)


def grid_heatmap(grid, title):
    """Validation error over lr x momentum: diverged cells hatched and labelled with the reason,
    far-worse cells dotted, the chosen one boxed."""
    lrs, momenta = sorted(grid["lr"].unique()), sorted(grid["momentum"].unique())
    values, far_worse = grid_values(grid, lrs, momenta)
    figure, axes = plt.subplots(figsize=(1.5 * len(momenta) + 3, 0.75 * len(lrs) + 2), layout="constrained")
    image = axes.imshow(values, cmap="YlOrRd", aspect="auto", norm=error_norm(values, far_worse))
    for _, row in grid.iterrows():
        mark_cell(axes, row, lrs.index(row["lr"]), momenta.index(row["momentum"]), image)
    extend = "max" if far_worse.any() else "neither"  # the arrow: beyond it, far worse
    logarithmic = isinstance(image.norm, colors.LogNorm)
    label = "final validation error (%)" + (", log scale" if logarithmic else "")
    bar = figure.colorbar(image, ax=axes, label=label, extend=extend)
    if logarithmic:
        log_ticks(bar.ax.yaxis)
    axes.set(
        xticks=range(len(momenta)),
        xticklabels=[f"{m:g}" for m in momenta],
        xlabel="SGD momentum",
        yticks=range(len(lrs)),
        yticklabels=[f"{lr:g}" for lr in lrs],
        ylabel="learning rate",
    )
    fitted_title(figure, title)
    return figure


def tile_grid(tiles, title, columns=None):
    """Small images (n x h x w) in a grid, each scaled to its own symmetric range (0 is white)."""
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    height, width = tiles.shape[1:]
    # At least 4.5 inches wide (a title wrapped to 2 inches would take six lines); few tiles fill it.
    tile = float(np.clip(4.1 / columns * height / width, *TILE_INCHES))
    figure, axes = plt.subplots(
        layout="constrained", figsize=(max(4.5, columns * tile * width / height + 0.4), rows * tile + 1.2)
    )
    axes.set_axis_off()
    axes.imshow(tile_mosaic(tiles, columns), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    fitted_title(figure, title)
    fit_text(
        figure,
        figure.supxlabel("red positive, blue negative; each tile scaled to its own largest |weight|", fontsize="small"),
    )
    return figure


def tile_mosaic(tiles, columns, gap=2):
    """The tiles (n x h x w) as one image, `columns` to a row, each divided by its own largest |value|
    (so -1 to 1), with NaN (left blank by imshow) `gap` pixels wide between them (torchvision's
    make_grid, written out: importing torchvision would add seconds to the plot job's start)."""
    tiles = np.asarray(tiles, dtype=np.float64)
    limits = np.abs(tiles).max(axis=(1, 2), keepdims=True)
    scaled = tiles / np.where(limits > 0, limits, 1.0)  # not each tile's min..max to 0..1: 0 stays white
    # Each pixel of a small kernel becomes a block, so the 2-pixel gap is a thin line, not a third of a tile
    block = math.ceil(28 / min(tiles.shape[1:]))
    scaled = scaled.repeat(block, axis=1).repeat(block, axis=2)
    count, height, width = scaled.shape
    if count == 1:
        return scaled[0]  # one tile: no gap around it
    across = min(columns, count)
    mosaic = np.full((math.ceil(count / across) * (height + gap) + gap, across * (width + gap) + gap), np.nan)
    for index, tile in enumerate(scaled):
        row, column = divmod(index, across)
        top, left = gap + row * (height + gap), gap + column * (width + gap)
        mosaic[top : top + height, left : left + width] = tile
    return mosaic


def weights_figure(choice, weights):
    """The pictured layer's weights of an experiment's chosen run, one tile per unit; weights:
    predictions.chosen_weights(), None when every run diverged."""
    title = f"{choice['dataset']} / {choice['model']}: first-layer weights"
    if weights is None:
        return tile_grid(np.zeros((1, 3, 3)), title + " (every run diverged)")
    chosen = choice["chosen"]
    title += f" of the chosen run (lr {chosen['lr']:g}, momentum {chosen['momentum']:g})"
    return tile_grid(first_layer_tiles(*weights), title)


def first_layer_tiles(weight, image_shape):
    """One picture per unit: a Linear layer's rows as images, or a convolution's kernels."""
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim == 2:
        weight = weight.reshape(len(weight), *image_shape)
    return weight.mean(axis=1)  # over input channels (there is one here)


def count_points(cell, count, fill=0.9, largest=10.0):
    """The font size (points) of `count` written in a cell `cell` points wide: as large as its digits
    (two at the least) fit in `fill` of the cell, up to `largest`. Each count on its own: the few
    errors, which the matrix is read for, stay large beside the diagonal's thousands."""
    return min(largest, fill * cell / (DIGIT_EMS * max(2, len(str(count)))))


def confusion_cells(axes, matrix, image):
    """Each non-zero count written in its cell (count_points). The layout is drawn first: the cells'
    size is known only then."""
    axes.figure.canvas.draw()
    cell = axes.get_window_extent().width / axes.figure.dpi / len(matrix) * 72
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            axes.text(
                j,
                i,
                f"{count:d}",
                ha="center",
                va="center",
                fontsize=count_points(cell, count),
                color=text_colour(image.cmap(image.norm(count))),
            )
    return axes


def names_inches(class_names, fontsize=10):
    """About how wide the longest declared class name is drawn (inches): what names add to a
    figure's size; 0 for labels (digits, sums), which the sizes already allow for."""
    return 0 if class_names is None else 0.6 * fontsize / 72 * max(map(len, class_names), default=0)


def tilt_if_crowded(figure, labels, gap=3):
    """Tilt tick labels 45 degrees (anchored at their right end) when neighbours would touch, as
    long class names do; labels that fit stay level."""
    figure.canvas.draw()  # lays the figure out, so the labels' extents are final
    boxes = [label.get_window_extent() for label in labels if label.get_text()]
    if any(left.x1 + gap > right.x0 for left, right in zip(boxes, boxes[1:])):
        for label in labels:
            label.set(rotation=45, horizontalalignment="right", rotation_mode="anchor")
    return labels


def grow_to_fit(figure, pad=0.05, passes=3):
    """Enlarge the figure until all it draws lies inside it. Constrained layout shrinks axes to make
    room for long tilted labels, but an equal-aspect axes (a confusion matrix) can leave it short."""
    for _ in range(passes):
        figure.canvas.draw()
        drawn, frame = figure.get_tightbbox(figure.canvas.get_renderer()), figure.bbox_inches
        wider = max(0, frame.x0 - drawn.x0) + max(0, drawn.x1 - frame.x1)
        taller = max(0, frame.y0 - drawn.y0) + max(0, drawn.y1 - frame.y1)
        if not wider and not taller:
            break
        width, height = figure.get_size_inches()
        figure.set_size_inches(width + wider + pad * bool(wider), height + taller + pad * bool(taller))
    return figure


def confusion_matrix(matrix, title, class_names=None):
    """Test counts (rows: true class) on a log colour scale, zero cells blank, every class ticked
    with its name (class_names) or label."""
    matrix = np.asarray(matrix).astype(np.int64)
    names = [class_name(label, class_names) for label in range(len(matrix))]
    side, extra = float(np.clip(0.42 * len(matrix) + 2, 4.5, MATRIX_INCHES)), names_inches(class_names)
    # Taller than wide by the title's and the x label's height: the square matrix takes the width
    figure, axes = plt.subplots(figsize=(side + 1.2 + extra, side + 0.6 + 0.75 * extra), layout="constrained")
    shown = np.ma.masked_equal(matrix, 0)
    norm = colors.LogNorm(1, max(int(matrix.max()), 2))
    image = axes.imshow(shown, cmap=COUNT_COLOURS, norm=norm)
    # A slim bar close by: its width goes to the cells
    bar = figure.colorbar(
        image, ax=axes, label="test images, log scale", shrink=0.8, fraction=0.05, aspect=40, pad=0.02
    )
    log_ticks(bar.ax.yaxis)
    ticks = range(len(matrix))
    axes.set(
        xticks=ticks,
        xticklabels=names,
        yticks=ticks,
        yticklabels=names,
        xlabel="predicted class (test)",
        ylabel="true class (test)",
    )
    fitted_title(figure, title)
    tilt_if_crowded(figure, axes.get_xticklabels())
    confusion_cells(axes, matrix, image)
    return grow_to_fit(figure)


def class_errors(table, title, model, class_names=None):
    """Test error (%) per true class in the model's colour, with each class's 95% interval; each
    class ticked with its name (class_names) or label and its number of test images."""
    position = np.arange(len(table))
    error, low, high = (100 * table[column].to_numpy(dtype=np.float64) for column in ("error", "low", "high"))
    extra = names_inches(class_names, fontsize=9)
    figure, axes = plt.subplots(figsize=(max(5.0, 0.7 * len(table) + 2), 4 + 0.7 * extra), layout="constrained")
    axes.bar(
        position,
        error,
        0.7,
        color=model_colour(model),
        yerr=np.clip([error - low, high - error], 0, None),
        error_kw={"ecolor": "0.2", "capsize": 3},
    )
    labels = [f"{class_name(label, class_names)}\n(n={int(n)})" for label, n in zip(table["class"], table["n"])]
    axes.set(
        xticks=position,
        xlim=(-0.6, len(table) - 0.4),
        ylabel="test error (%)",
        xlabel="true class (test), with its number of test images n",
    )
    axes.set_xticklabels(labels, fontsize=9 if len(table) <= 12 else 8)
    axes.set_ylim(0, 1.1 * np.nanmax(np.append(high, 1.0)))
    fitted_title(figure, title)
    tilt_if_crowded(figure, axes.get_xticklabels())
    return grow_to_fit(figure)


def tile_titles(truths, predictions, confidences, most=30):
    """Each worst-image tile's title: the truth, then the prediction and its probability; a line of
    more than `most` characters (long class names) wrapped."""
    lines = [[truth, f"{guess}, p={p:.2f}"] for truth, guess, p in zip(truths, predictions, confidences)]
    return ["\n".join(textwrap.fill(line, most, break_on_hyphens=False) for line in pair) for pair in lines]


def prediction_tiles(images, truths, predictions, confidences, title, columns=6):
    """The given test images (typically the most confidently wrong), each titled with the caller's
    two lines, e.g. 'true 11 (5+6)' and 'pred 2', and the prediction's probability."""
    if not len(images):
        return nothing_to_show(title, "no test image is misclassified")
    titles = tile_titles(truths, predictions, confidences)
    columns = min(columns, len(images))
    rows = math.ceil(len(images) / columns)
    height, width = images.shape[2:]
    tile = max(1.5, 1.1 * width / height)  # wide enough for a two-line title of digits or sums
    # Class names widen a column (about 0.07 inch a character at 8 points) and may add lines.
    column = max(tile, 0.07 * max(len(line) for text in titles for line in text.split("\n")) + 0.1)
    row = tile * height / width + 0.35 + 0.13 * (max(text.count("\n") for text in titles) - 1)
    figure, axes = plt.subplots(
        rows, columns, squeeze=False, layout="constrained", figsize=(max(4.0, columns * column), rows * row + 0.5)
    )
    for axis in axes.flat:
        axis.set_axis_off()
    for axis, image, text in zip(axes.flat, images, titles):
        axis.imshow(image[0], cmap="gray_r", vmin=0, vmax=255)
        axis.set_title(text, fontsize=8)
    fitted_title(figure, title)
    return figure


def nothing_to_show(title, reason):
    """A figure that says why it is empty, where a user expects a picture."""
    figure, axis = plt.subplots(figsize=(6, 2), layout="constrained")
    axis.set_axis_off()
    axis.text(0.5, 0.5, reason, ha="center", va="center", fontsize=11)
    fitted_title(figure, title)
    return figure


def pair_samples(images, classes, dataset, count=16):
    """The first `count` images of pairs dataset `dataset` with the classes of their two halves and
    their label, the sum."""
    columns = 4
    figure, axes = plt.subplots(
        math.ceil(count / columns), columns, figsize=(8, 1.2 * count / columns + 0.5), layout="constrained"
    )
    # Subplots, not make_grid: each image carries its own title, which one grid image cannot hold.
    for axis in axes.flat:  # all of them: a split of fewer than `count` images leaves some empty
        axis.set_axis_off()
    for axis, image, (left, right) in zip(axes.flat, images[:count], classes[:count]):
        axis.imshow(image[0], cmap="gray_r")
        axis.set_title(f"{left} + {right} = {left + right}", fontsize=9)
    fitted_title(figure, f"{dataset}: training images, titled class + class = label")
    return figure


def errors_by_replicate(runs, models):
    """Test error (%) of each replicate (rows, by index: 1, 2, ...) of each of `models` (columns, in
    order), NaN where a model has fewer replicates than another; and a frame like it, True where a
    replicate diverged."""
    keyed, indices = runs.set_index(["replicate", "model"]), sorted(runs["replicate"].unique())
    errors = 100 * pd.to_numeric(keyed["test_error"], errors="coerce").unstack()
    diverged = (keyed["status"] == "diverged").unstack().reindex(index=indices, columns=models)
    return errors.reindex(index=indices, columns=models), diverged.eq(True)  # a replicate not trained: not diverged


def replicate_counts(runs, models):
    """Each of `models` with its number of replicates, as a title says it: 'ann 5, cnn 20'."""
    counts = runs["model"].value_counts()
    return ", ".join(f"{model} {counts.get(model, 0)}" for model in models)


def replicate_positions(errors, left=-0.32, right=0.08):
    """Each replicate's x (a frame like `errors`, NaN where a model has no such replicate): a model's
    replicates spread in index order over its place from `left` to `right`, so equal errors stay apart;
    right of them, its mean (MEAN_OFFSET)."""
    positions = pd.DataFrame(np.nan, index=errors.index, columns=errors.columns)
    for place, model in enumerate(errors.columns):
        present = errors[model].notna().to_numpy()
        count = int(present.sum())
        positions.loc[present, model] = place + (np.linspace(left, right, count) if count > 1 else (left + right) / 2)
    return positions


def replicate_lines(axes, errors, positions):
    """A thin grey line joining replicate i of the models that have it: replicate i of every model
    shares its seed index and split, so the comparison is paired."""
    for index in errors.index:
        x, y = positions.loc[index].to_numpy(np.float64), errors.loc[index].to_numpy(np.float64)
        shown = np.isfinite(x) & np.isfinite(y)  # a model with fewer replicates: the line goes on to the next
        axes.plot(x[shown], y[shown], **REPLICATE_LINE, zorder=2)
    return axes


def replicate_points(axes, errors, diverged, positions, size=30):
    """Each replicate's test error a point in its model's colour; a diverged replicate a red cross."""
    for model in errors.columns:
        x, y = positions[model].to_numpy(np.float64), errors[model].to_numpy(np.float64)
        bad, drawn = diverged[model].to_numpy(), np.isfinite(x) & np.isfinite(y)
        # Unclipped: a test error of 0 sits whole on the axis, not cut in half
        axes.scatter(
            x[drawn & ~bad],
            y[drawn & ~bad],
            s=size,
            color=model_colour(model),
            edgecolor="white",
            zorder=3,
            clip_on=False,
        )
        if (drawn & bad).any():
            axes.scatter(x[drawn & bad], y[drawn & bad], s=1.4 * size, **DIVERGED_MARK, zorder=5, clip_on=False)
    return axes


def error_limits(shown, extras, pad=0.1, reach=0.25, margin=0.04):
    """The y limits (%): `shown` (arrays: the healthy replicates' test errors, the means) with a margin
    of `pad` of their range, from 0 at the least; `extras` (interval ends, diverged replicates' errors)
    move a limit by at most `reach` of that range more. With 10,000 test images an interval can be
    several times the replicates' spread, a replicate at chance tens of times: either would squeeze
    the points into a line (what lies beyond is marked on the edge)."""
    shown, extras = (
        np.concatenate([np.ravel(np.asarray(part, np.float64)) for part in parts]) for parts in (shown, extras)
    )
    shown, extras = shown[np.isfinite(shown)], extras[np.isfinite(extras)]
    if not shown.size:
        return 0.0, 1.0
    least, most = shown.min(), shown.max()
    span = max(most - least, 0.05 * most, 0.01)  # equal errors: still an axis round them
    ends = np.concatenate([shown, extras])
    # The margin: an interval's cap on the limit would vanish into the frame
    bottom = np.clip(ends.min() - margin * span, least - (pad + reach) * span, least - pad * span)
    top = np.clip(ends.max() + margin * span, most + pad * span, most + (pad + reach) * span)
    return max(0.0, bottom), top


def on_scale(axes, errors):
    """`errors` (a frame) moved onto the y limits where they lie beyond: where their marks are drawn."""
    return errors.clip(*axes.get_ylim())


def beyond_labels(axes, errors, positions):
    """Each test error beyond the y limits (a diverged replicate's, its cross on the edge) written
    beside its mark. Returns how many there are."""
    bottom, top = axes.get_ylim()
    far = (errors > top) | (errors < bottom)
    for model in errors.columns:
        for index in errors.index[far[model].to_numpy()]:
            error = errors.loc[index, model]
            edge, offset = (top, -10) if error > top else (bottom, 4)
            where = (positions.loc[index, model], edge)
            axes.annotate(f"{error:.3g}%", where, (6, offset), textcoords="offset points", color="darkred", size=8)
    return int(far.to_numpy().sum())


def mean_values(summary):
    """Each model's mean test error and the low and high ends of its 95% interval (%), NaN where missing."""
    return [
        100 * pd.to_numeric(summary[column], errors="coerce").to_numpy(np.float64)
        for column in ("test_error_mean", "test_error_low", "test_error_high")
    ]


def interval_ends(axes, x, ends, edge, arrow):
    """A cap on each interval end inside the axis; where an end lies beyond `edge`, a triangle on the
    edge instead (`arrow`: '^' on the top edge, 'v' on the bottom), pointing the way the interval goes
    on. Returns how many ends lie beyond."""
    beyond = ends > edge if arrow == "^" else ends < edge
    if (~beyond).any():
        axes.plot(x[~beyond], ends[~beyond], "_", color="black", markersize=8, markeredgewidth=1.2, zorder=4)
    if beyond.any():
        # Unclipped: the triangle's tip stands out of the frame, where the axis stops and the interval not
        axes.plot(x[beyond], np.full(beyond.sum(), edge), arrow, color="black", markersize=6, zorder=5, clip_on=False)
    return int(beyond.sum())


def replicate_means(axes, x, mean, low, high):
    """Each model's mean over its replicates (diverged ones included) as a black diamond at `x`, with its
    95% interval drawn as far as the y limits (set before) reach. Returns how many ends lie beyond them."""
    bottom, top = axes.get_ylim()
    shown = np.isfinite(low) & np.isfinite(high)  # fewer than two replicates: a mean without interval
    ends = x[shown], low[shown], high[shown]
    axes.vlines(ends[0], np.clip(ends[1], bottom, top), np.clip(ends[2], bottom, top), color="black", linewidth=1.2)
    beyond = interval_ends(axes, ends[0], ends[2], top, "^") + interval_ends(axes, ends[0], ends[1], bottom, "v")
    axes.plot(x, mean, "D", color="black", markersize=5, zorder=6)
    return beyond


def replicate_label(model, detail, diverged, interval):
    """A model's tick label: its name, `detail` (its lr and momentum, or its number of replicates), how
    many of its replicates diverged, and 'no interval' where its mean has none."""
    lines = [model, detail] + ([f"{diverged} diverged"] if diverged else [])
    return "\n".join(lines + ([] if interval else ["no interval (n < 2)"]))


def replicate_panel(axes, runs, summary, details, size=30):
    """A task's replicates on `axes`: each replicate's test error, paired across models, and each model's
    mean with its 95% interval, on a y axis scaled to the healthy replicates and the means (error_limits).
    runs: replicates.csv; summary: variance.csv, a row per model in the order drawn; details: a line under
    each model's name. Returns what a legend must explain: {'diverged', 'beyond', 'far'}: whether a
    diverged replicate is drawn, an interval goes on beyond the axis, a diverged replicate lies beyond it."""
    models = list(summary["model"])
    errors, diverged = errors_by_replicate(runs, models)
    positions, place = replicate_positions(errors), np.arange(len(models))
    mean, low, high = mean_values(summary)
    axes.set_ylim(error_limits([errors.where(~diverged), mean], [low, high, errors.where(diverged)]))
    replicate_lines(axes, on_scale(axes, errors), positions)
    replicate_points(axes, on_scale(axes, errors), diverged, positions, size)
    far = beyond_labels(axes, errors, positions)
    beyond = replicate_means(axes, place + MEAN_OFFSET, mean, low, high)
    crossed = diverged & errors.notna()
    interval = np.isfinite(low) & np.isfinite(high)
    labels = [replicate_label(*label) for label in zip(models, details, crossed.sum().astype(int), interval)]
    axes.set(xticks=place, xticklabels=labels, xlim=(-0.6, len(models) - 0.4), ylabel="test error (%), test split")
    return {"diverged": bool(crossed.to_numpy().any()), "beyond": beyond > 0, "far": far > 0}


def replicate_legend(figure, drawn):
    """One entry per kind of mark (a diverged replicate's, an interval's beyond the axis, only where
    one is drawn); two columns where the figure is wide enough for them."""
    interval = Line2D([], [], marker="|", linestyle="", color="black", markersize=14, markeredgewidth=1.2)
    handles = [
        Line2D([], [], marker="o", linestyle="", color="0.45"),
        Line2D([], [], **REPLICATE_LINE),
        (interval, Line2D([], [], marker="D", linestyle="", color="black", markersize=5)),
    ]
    labels = ["one replicate's test error (model's colour)", "replicate i of each model (same seed, same split)"]
    labels.append(INTERVAL_LABEL)
    if drawn["diverged"]:
        handles.append(Line2D([], [], linestyle="", **DIVERGED_MARK))
        far = " (beyond the axis: on its edge, its error written)" if drawn["far"] else ""
        labels.append(f"a diverged replicate, in the mean{far}")
    if drawn["beyond"]:
        handles.append(Line2D([], [], marker="^", linestyle="", color="black", markersize=6))
        labels.append("the interval goes on beyond the axis")
    columns = 2 if figure.get_figwidth() >= 8 else 1
    return figure.legend(
        handles,
        labels,
        handler_map={tuple: HandlerTuple(ndivide=None)},
        loc="outside lower center",
        ncol=columns,
        fontsize="small",
    )


def replicates(runs, summary, title):
    """Test error (%) of each replicate of a task's chosen models, paired across models (replicate i of
    every model shares its seed and split), with each model's mean and 95% interval (replicate_panel).
    runs: one row per (model, replicate); summary: one row per model, in the order drawn."""
    figure, axes = plt.subplots(figsize=(max(5.5, 1.9 * len(summary) + 2), 5), layout="constrained")
    details = [f"lr {row['lr']:g}, momentum {row['momentum']:g}" for _, row in summary.iterrows()]
    drawn = replicate_panel(axes, runs, summary, details)
    axes.set_xlabel("model (its chosen learning rate and momentum)")
    replicate_legend(figure, drawn)
    fitted_title(figure, title)
    return grow_to_fit(figure)


def comparison(tasks, title=COMPARISON_TITLE):
    """Every task's replicates side by side, a panel per task with its own y axis: the errors of one
    task can be tens of times another's, and one shared axis would flatten the smaller task's
    differences. tasks: {dataset: (runs, summary)}, each as replicates() takes them."""
    widths = [max(2, len(summary)) for _, summary in tasks.values()]
    figure, panels = plt.subplots(
        1,
        len(tasks),
        squeeze=False,
        width_ratios=widths,
        figsize=(1.6 * sum(widths) + 1.2 * len(tasks) + 0.5, 5.2),
        layout="constrained",
    )
    drawn = []
    for axes, (dataset, (runs, summary)) in zip(panels[0], tasks.items()):
        counts = runs["model"].value_counts()
        details = [f"{counts.get(model, 0)} replicates" for model in summary["model"]]
        drawn.append(replicate_panel(axes, runs, summary, details, size=20))
        axes.set(title=dataset, xlabel="model")
    replicate_legend(figure, {key: any(marks[key] for marks in drawn) for key in drawn[0]})
    fitted_title(figure, title)
    return grow_to_fit(figure)


def save(figure, path, dpi):
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png")
    plt.close(figure)
