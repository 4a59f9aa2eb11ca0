"""Training: learning happens, runs are reproducible bit for bit, divergence is caught, batches are fair."""

import copy
import math

import pytest
import torch

from digitstudy.models import build_model
from digitstudy.training import (
    CHANCE_MARGIN,
    TensorSplit,
    batch_indices,
    best_epoch,
    chance_error,
    divergence_reason,
    evaluate,
    standardise,
    to_tensor_split,
    train,
    train_one_epoch,
)
from helpers import learnable_split, learnable_tensor_data, run_settings


# Tests must stay fast and comparable on a shared machine; one thread also keeps float sums in
# one order, which the bit-for-bit comparisons below rely on.
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    return learnable_tensor_data()


def settings(**changes):
    return run_settings(**{"seed": 1, "batch_size": 64, "epochs": 2, **changes})


def history_without_seconds(history):
    return [{key: value for key, value in row.items() if key != "seconds"} for row in history]


def row(epoch, valid_error, train_loss=1.0, valid_loss=1.0):
    return {
        "epoch": epoch,
        "train_loss": train_loss,
        "train_error": 0.5,
        "valid_loss": valid_loss,
        "valid_error": valid_error,
        "seconds": 0.1,
    }


# --- learning ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_name", ["ann", "cnn"])
def test_one_epoch_lowers_the_loss(data, model_name):
    torch.manual_seed(0)
    model = build_model(model_name, (1, 28, 28), 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    before = evaluate(model, data["valid"])
    fit = train_one_epoch(model, optimizer, data["train"], 32, torch.Generator().manual_seed(0))
    after = evaluate(model, data["valid"])
    assert after["loss"] < 0.7 * before["loss"]
    assert after["error"] < before["error"]
    assert 0 <= fit["error"] <= 1 and math.isfinite(fit["loss"])


def test_one_batch_is_overfitted(data):
    # The classic sanity check: a model that cannot memorise 32 samples has a bug in its wiring.
    torch.manual_seed(0)
    batch = TensorSplit(data["train"].images[:32], data["train"].labels[:32])
    model = build_model("ann", (1, 28, 28), 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    generator = torch.Generator().manual_seed(0)
    for _ in range(40):
        train_one_epoch(model, optimizer, batch, 32, generator)
    result = evaluate(model, batch)
    assert result["error"] == 0 and result["loss"] < 0.05


def test_evaluate_is_independent_of_batch_size(data):
    torch.manual_seed(0)
    model = build_model("cnn", (1, 28, 28), 10)
    whole, pieces = evaluate(model, data["test"]), evaluate(model, data["test"], batch_size=37)
    assert whole["error"] == pieces["error"]
    assert whole["loss"] == pytest.approx(pieces["loss"], rel=1e-5)


# --- reproducibility -----------------------------------------------------------------------------


def test_training_is_deterministic(data):
    runs = [train(settings(), data, n_classes=10) for _ in range(2)]
    (history, outcome, model), (history_again, outcome_again, model_again) = runs
    assert history_without_seconds(history) == history_without_seconds(history_again)
    assert outcome == outcome_again
    state, state_again = model.state_dict(), model_again.state_dict()
    assert state.keys() == state_again.keys()
    for name in state:
        assert torch.equal(state[name], state_again[name]), name


def test_other_seed_gives_other_run(data):
    _, _, model = train(settings(epochs=1), data, n_classes=10)
    history, _, other_model = train(settings(epochs=1, seed=2), data, n_classes=10)
    first_history, _, _ = train(settings(epochs=1), data, n_classes=10)
    assert history_without_seconds(history) != history_without_seconds(first_history)
    weights, other_weights = model.state_dict(), other_model.state_dict()
    assert not any(torch.equal(weights[name], other_weights[name]) for name in weights)


def test_training_history_and_outcome(data):
    history, outcome, _ = train(settings(epochs=2), data, n_classes=10)
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert all(row["seconds"] > 0 for row in history)
    assert outcome["status"] == "ok" and outcome["reason"] is None and outcome["diverged_epoch"] is None
    # The synthetic classes are learnable: far better than always answering the commonest class.
    assert outcome["test"]["error"] < outcome["chance_error"] / 2


# --- divergence ----------------------------------------------------------------------------------


def test_huge_learning_rate_is_reported_as_diverged(data):
    # The schema caps lr at 100, but RunSettings does not: the run must stop cleanly, not raise.
    history, outcome, _ = train(settings(model="ann", lr=1e6, epochs=10, chance_patience=2), data, 10)
    assert outcome["status"] == "diverged"
    assert outcome["reason"] == "non-finite loss" or "chance level" in outcome["reason"]
    assert outcome["diverged_epoch"] == history[-1]["epoch"] == len(history)
    assert len(history) < 10  # stopped early instead of burning the remaining epochs


def test_non_finite_loss_is_divergence():
    for bad in (math.nan, math.inf):
        assert divergence_reason([row(1, 0.1, train_loss=bad)], chance=0.9, patience=5) == "non-finite loss"
        assert divergence_reason([row(1, 0.1, valid_loss=bad)], chance=0.9, patience=5) == "non-finite loss"


def test_chance_level_is_divergence_after_patience_epochs():
    chance, at_chance = 0.9, 0.9 - CHANCE_MARGIN / 2
    history = [row(epoch, at_chance) for epoch in range(1, 4)]
    assert divergence_reason(history[:2], chance, patience=3) is None  # not yet patience epochs
    reason = divergence_reason(history, chance, patience=3)
    assert reason == "validation error at chance level (0.900) for 3 epochs"


def test_one_good_epoch_within_patience_is_healthy():
    chance = 0.9
    history = [row(1, 0.95), row(2, 0.5), row(3, 0.95), row(4, 0.95)]
    assert divergence_reason(history, chance, patience=3) is None
    # Once the good epoch falls out of the window, the run counts as stuck.
    assert divergence_reason(history + [row(5, 0.95)], chance, patience=3) is not None


def test_healthy_run_is_not_divergence():
    history = [row(epoch, error) for epoch, error in enumerate((0.5, 0.3, 0.2), start=1)]
    assert divergence_reason(history, chance=0.9, patience=1) is None


def test_chance_error_is_that_of_the_commonest_class():
    assert chance_error(torch.tensor([0, 0, 0, 1]), n_classes=3) == pytest.approx(0.25)
    assert chance_error(torch.arange(10).repeat(5), n_classes=10) == pytest.approx(0.9)


# --- best epoch ----------------------------------------------------------------------------------


def test_best_epoch_is_first_lowest_valid_error():
    history = [row(1, 0.3), row(2, 0.1), row(3, 0.2), row(4, 0.1)]
    assert best_epoch(history)["epoch"] == 2


def test_best_epoch_treats_nan_as_worst():
    assert best_epoch([row(1, math.nan), row(2, 0.8)])["epoch"] == 2
    assert best_epoch([row(1, math.nan)])["epoch"] == 1


# --- batches -------------------------------------------------------------------------------------


def batch_sizes(n_samples, batch_size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [len(batch) for batch in batch_indices(n_samples, batch_size, generator, "cpu")]


@pytest.mark.parametrize(
    "n_samples, batch_size, sizes",
    [
        (10, 4, [4, 4, 2]),
        (8, 4, [4, 4]),
        (9, 4, [4, 4]),  # a last batch of one sample is dropped (batch norm cannot train on it)
        (1, 4, [1]),  # unless it is the only batch
        (5, 10, [5]),
    ],
)
def test_batch_sizes(n_samples, batch_size, sizes):
    assert batch_sizes(n_samples, batch_size) == sizes


def test_batches_cover_every_sample_once_per_epoch():
    generator = torch.Generator().manual_seed(0)
    epochs = [torch.cat(batch_indices(100, 16, generator, "cpu")) for _ in range(3)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(100))
    # A fresh permutation each epoch, not the same order replayed.
    assert not torch.equal(epochs[0], epochs[1])


def test_dropped_sample_changes_between_epochs():
    generator = torch.Generator().manual_seed(0)
    missing = set()
    for _ in range(5):
        seen = torch.cat(batch_indices(9, 4, generator, "cpu")).tolist()
        assert len(seen) == len(set(seen)) == 8
        missing |= set(range(9)) - set(seen)
    assert len(missing) > 1  # the dropped sample is random, so no sample is never trained on


def test_batches_depend_only_on_seed():
    first, again = (batch_indices(50, 8, torch.Generator().manual_seed(3), "cpu") for _ in range(2))
    assert all(torch.equal(a, b) for a, b in zip(first, again))


# --- standardisation -----------------------------------------------------------------------------


def test_to_tensor_split_standardises_with_given_statistics():
    split = learnable_split(64, seed=0)
    scaled = split.images / 255.0
    tensors = to_tensor_split(split, scaled.mean(), scaled.std(), "cpu")
    assert tensors.images.dtype == torch.float32 and tensors.images.shape == (64, 1, 28, 28)
    assert tensors.images.mean().item() == pytest.approx(0, abs=1e-4)
    assert tensors.images.std().item() == pytest.approx(1, abs=1e-3)
    assert tensors.labels.dtype == torch.int64 and torch.equal(tensors.labels, torch.from_numpy(split.labels))


def test_standardise_is_torchvisions_normalize_bit_for_bit():
    """The operations of torchvision's Normalize, which it replaced (torchvision's import costs seconds)."""
    from torchvision.transforms import v2

    images = learnable_split(64, seed=3).images
    for mean, std in ((0.1307, 0.3081), (0.2, 0.05), (0.5, 1e-3)):
        reference = v2.Normalize([255.0 * mean], [255.0 * std])(torch.from_numpy(images).float())
        assert torch.equal(standardise(images, mean, std, "cpu"), reference), (mean, std)


# --- resuming ------------------------------------------------------------------------------------


def test_resumed_training_is_bit_for_bit_the_uninterrupted_one(data):
    # cnn_dropout: dropout draws from torch's global generator, which the state must carry too.
    run = settings(model="cnn_dropout", epochs=3)
    states = []
    history, outcome, model = train(run, data, 10, save=lambda state: states.append(copy.deepcopy(state)))
    assert [state["epoch"] for state in states] == [1, 2, 3]
    torch.manual_seed(12345)  # whatever ran in between must not matter
    trained = []
    resumed_history, resumed_outcome, resumed_model = train(run, data, 10, log=trained.append, resume=states[0])
    assert [line.split()[1] for line in trained] == ["2", "3"]  # only the remaining epochs
    assert history_without_seconds(resumed_history) == history_without_seconds(history)
    assert resumed_history[0]["seconds"] == history[0]["seconds"]  # the first epoch is the saved one
    assert resumed_outcome == outcome
    for name, tensor in model.state_dict().items():
        assert torch.equal(resumed_model.state_dict()[name], tensor), name


def test_diverged_run_saves_no_state(data):
    states = []
    history, outcome, _ = train(
        settings(model="ann", lr=1e6, epochs=10, chance_patience=2), data, 10, save=states.append
    )
    assert outcome["status"] == "diverged"
    assert len(states) == len(history) - 1  # the diverged epoch ends the run, nothing to resume


def test_cuda_without_a_usable_gpu_is_one_line_naming_the_setting():
    from digitstudy.errors import DigitstudyError
    from digitstudy.training import check_device

    with pytest.raises(DigitstudyError, match=r"^training.device is cuda, but this machine has no usable GPU"):
        check_device("cuda", cuda_available=lambda: False)
    check_device("cuda:0", cuda_available=lambda: True)
    check_device("cpu", cuda_available=lambda: False)
