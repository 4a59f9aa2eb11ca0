"""Train one run: SGD on splits held as tensors, batches cut by index with a seeded generator."""

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .errors import DigitstudyError
from .models import build_model, has_convolutions
from .sgd import MomentumSGD


EVAL_BATCH = 1000
CHANCE_MARGIN = 0.01


@dataclass(frozen=True)
class RunSettings:
    model: str
    seed: int
    lr: float
    momentum: float
    batch_size: int
    epochs: int
    # No defaults: every value comes from the validated config, whose schema holds the defaults.
    chance_patience: int
    device: str


@dataclass
class TensorSplit:
    images: torch.Tensor  # N x C x H x W float32, standardised
    labels: torch.Tensor  # N int64


def check_device(device, cuda_available=torch.cuda.is_available):
    """Stop with one line where the run asks for a GPU this machine cannot give (checked when the job
    starts, not when Snakemake plans: a cluster's login node often has no GPU, its GPU nodes do)."""
    if str(device).startswith("cuda") and not cuda_available():
        raise DigitstudyError(
            f"training.device is {device}, but this machine has no usable GPU "
            "(torch.cuda.is_available() is False): set training.device to cpu, or run on a GPU node"
        )


def standardise(images, mean, std, device):
    """uint8 images (N x C x H x W, pixels 0-255) as the models see them: float32 on the device,
    (x / 255 - mean) / std with the train split's pixel mean and std (on [0, 1]). Training and a
    finished run's preprocessing (predictions.load_run) both come here."""
    # On 0-255 pixels, by 255 x mean and std: float32 operations that give the same tensor on every
    # call (dividing to [0, 1] first would round differently). The operations of torchvision's
    # Normalize, written out: importing torchvision would add seconds to every training job's start.
    # Mean and std as float32 tensors, not Python numbers, as Normalize has them: on a GPU a division
    # by a number may run as a multiplication by its reciprocal, which rounds differently.
    pixels = torch.as_tensor(np.ascontiguousarray(images)).to(device).float()
    return pixels.sub_(float32_scalar(255.0 * mean, device)).div_(float32_scalar(255.0 * std, device))


def float32_scalar(value, device):
    return torch.tensor([value], dtype=torch.float32, device=device).view(-1, 1, 1)


def to_tensor_split(split, mean, std, device):
    """A split on the device, standardised with the train split's pixel mean and std."""
    return TensorSplit(
        standardise(split.images, mean, std, device), torch.from_numpy(np.ascontiguousarray(split.labels)).to(device)
    )


def batch_indices(n_samples, batch_size, generator, device):
    """A fresh seeded permutation cut into batches; a last batch of one sample is dropped
    (batch norm cannot train on it). The permutation is drawn on the CPU for every device."""
    batches = torch.randperm(n_samples, generator=generator).to(device).split(batch_size)
    return batches[:-1] if len(batches[-1]) == 1 and len(batches) > 1 else batches


def train_one_epoch(model, optimizer, data, batch_size, generator):
    """Mean loss and misclassification over the epoch's batches, in training mode."""
    model.train()
    total_loss = torch.zeros((), device=data.labels.device)
    errors = torch.zeros((), dtype=torch.int64, device=data.labels.device)
    seen = 0
    for index in batch_indices(len(data.labels), batch_size, generator, data.labels.device):
        images, labels = data.images[index], data.labels[index]
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.detach() * len(index)
        errors += (logits.argmax(dim=1) != labels).sum()
        seen += len(index)
    return {"loss": total_loss.item() / seen, "error": errors.item() / seen}


@torch.no_grad()
def evaluate(model, data, batch_size=EVAL_BATCH):
    """Mean loss and misclassification of the model in evaluation mode."""
    model.eval()
    total_loss, errors = 0.0, 0
    for start in range(0, len(data.labels), batch_size):
        images, labels = data.images[start : start + batch_size], data.labels[start : start + batch_size]
        logits = model(images)
        total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
        errors += (logits.argmax(dim=1) != labels).sum().item()
    return {"loss": total_loss / len(data.labels), "error": errors / len(data.labels)}


def chance_error(labels, n_classes):
    """Misclassification of always answering the most frequent training class."""
    counts = torch.bincount(labels.cpu(), minlength=n_classes)
    return 1.0 - counts.max().item() / counts.sum().item()


def divergence_reason(history, chance, patience):
    """Why the run should stop as diverged, or None while it is healthy."""
    last = history[-1]
    if not all(math.isfinite(last[key]) for key in ("train_loss", "valid_loss")):
        return "non-finite loss"
    recent = history[-patience:]
    if len(recent) == patience and all(row["valid_error"] >= chance - CHANCE_MARGIN for row in recent):
        return f"validation error at chance level ({chance:.3f}) for {patience} epochs"
    return None


def make_model(settings, image_shape, n_classes):
    torch.manual_seed(settings.seed)
    return on_device(build_model(settings.model, image_shape, n_classes), settings.device)


def on_device(model, device):
    """The model on the device, in the memory format that training and evaluation use."""
    model = model.to(device)
    if has_convolutions(model):
        model = model.to(memory_format=torch.channels_last)  # up to 1.35x faster on CPU for the small CNN
    return model


def training_state(model, optimizer, generator, history, device):
    """Everything that decides the epochs still to come: continuing from it is bit for bit the same
    as never having stopped. Plain tensors, lists and numbers only, so that it loads with
    torch.load(..., weights_only=True)."""
    state = {
        "epoch": len(history),
        "history": [dict(row) for row in history],
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "batch_order_rng": generator.get_state(),  # the batch permutations
        "torch_rng": torch.get_rng_state(),  # dropout draws from torch's global generator
    }
    if str(device).startswith("cuda"):
        state["cuda_rng"] = torch.cuda.get_rng_state()
    return state


def restore_state(state, model, optimizer, generator, device):
    """Put a training_state back; returns the history so far."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    generator.set_state(state["batch_order_rng"])
    torch.set_rng_state(state["torch_rng"])
    if str(device).startswith("cuda"):
        torch.cuda.set_rng_state(state["cuda_rng"])
    return [dict(row) for row in state["history"]]


def train(settings, data, n_classes, log=lambda message: None, resume=None, save=lambda state: None):
    """Train and test one run. Returns (history rows, outcome dict, final model).
    `resume`: a training_state to continue from; save(training_state) is called after each epoch
    of a run that goes on (a diverged run ends at once, it needs no checkpoint)."""
    model = make_model(settings, data["train"].images.shape[1:], n_classes)
    optimizer = MomentumSGD(model.parameters(), lr=settings.lr, momentum=settings.momentum)
    generator = torch.Generator().manual_seed(settings.seed)
    chance = chance_error(data["train"].labels, n_classes)
    history, reason = [], None
    if resume is not None:
        history = restore_state(resume, model, optimizer, generator, settings.device)
    for epoch in range(len(history) + 1, settings.epochs + 1):
        started = time.perf_counter()
        fit = train_one_epoch(model, optimizer, data["train"], settings.batch_size, generator)
        check = evaluate(model, data["valid"])
        history.append(
            {
                "epoch": epoch,
                "train_loss": fit["loss"],
                "train_error": fit["error"],
                "valid_loss": check["loss"],
                "valid_error": check["error"],
                "seconds": time.perf_counter() - started,
            }
        )
        log(format_epoch(history[-1]))
        reason = divergence_reason(history, chance, settings.chance_patience)
        if reason:
            log(f"diverged at epoch {epoch}: {reason}")
            break
        save(training_state(model, optimizer, generator, history, settings.device))
    outcome = {
        "test": evaluate(model, data["test"]),
        "chance_error": chance,
        "status": "diverged" if reason else "ok",
        "reason": reason,
        "diverged_epoch": history[-1]["epoch"] if reason else None,
    }
    return history, outcome, model


def format_epoch(row):
    return (
        f"epoch {row['epoch']:3d}  train loss {row['train_loss']:.4f} error {row['train_error']:.4f}"
        f"  valid loss {row['valid_loss']:.4f} error {row['valid_error']:.4f}  {row['seconds']:.1f}s"
    )


def best_epoch(history):
    """The first epoch with the lowest validation misclassification (NaN counts as worst)."""
    errors = [row["valid_error"] if math.isfinite(row["valid_error"]) else math.inf for row in history]
    return history[errors.index(min(errors))]
