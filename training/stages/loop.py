"""The epoch loop every trained stage shares: progress bar, gradient clipping, validation, early stopping,
a checkpoint after each epoch (so an interrupted stage resumes at the next epoch), loss curves.

A stage describes its training as an ``Objective``: an ``nn.Module`` whose forward takes one batch and
returns named loss terms including ``"loss"`` (the one minimised). Going through the module's forward is
what lets DistributedDataParallel average the gradients when the loop runs under torchrun.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn
from tqdm import tqdm

from .. import distributed
from ..artifacts import load_torch, save_torch
from ..distributed import World


@dataclass
class Fit:
    """What to train and how: the loop reads nothing else."""

    name: str
    objective: nn.Module
    # epoch -> this rank's batches for that epoch (already seeded and sharded).
    batches: Callable[[int], Iterable]
    steps_per_epoch: int
    # Objective (unwrapped, eval mode) -> validation terms including "loss"; identical on every rank.
    validate: Callable[[nn.Module], dict[str, float]]
    optimizer: torch.optim.Optimizer
    epochs: int
    grad_clip: float = 1.0
    patience: int = 0
    # Stepped after every optimiser step (OneCycleLR and the like); None = constant rate.
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    # Called with the epoch before it starts (annealing schedules).
    on_epoch: Callable[[int], None] | None = None
    history: list[dict] = field(default_factory=list)


def _checkpoint(fit: Fit, epoch: int, best_state: dict, best_loss: float, bad_epochs: int) -> dict:
    return {
        "epoch": epoch,
        "objective": fit.objective.state_dict(),
        "optimizer": fit.optimizer.state_dict(),
        "scheduler": fit.scheduler.state_dict() if fit.scheduler else None,
        "best_state": best_state,
        "best_loss": best_loss,
        "bad_epochs": bad_epochs,
        "history": fit.history,
        "rng": torch.get_rng_state(),
    }


def run_fit(fit: Fit, stage_dir: Path, world: World) -> list[dict]:
    """Train ``fit.objective`` in place (ending with its best-validation weights); returns the history."""
    stage_dir = Path(stage_dir)
    checkpoint_path = stage_dir / "checkpoint.pt"
    start, best_loss, bad_epochs = 0, math.inf, 0
    best_state = copy.deepcopy(fit.objective.state_dict())
    if checkpoint_path.exists():
        state = load_torch(checkpoint_path)
        fit.objective.load_state_dict(state["objective"])
        fit.optimizer.load_state_dict(state["optimizer"])
        if fit.scheduler and state["scheduler"]:
            fit.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        start, best_loss, bad_epochs = state["epoch"] + 1, state["best_loss"], state["bad_epochs"]
        best_state, fit.history = state["best_state"], state["history"]
        if world.is_main:
            print(f"[{fit.name}] resuming at epoch {start + 1}/{fit.epochs}")
    model = distributed.wrap(fit.objective, world)
    stopped = fit.patience > 0 and bad_epochs >= fit.patience
    for epoch in range(start, fit.epochs):
        if stopped:
            break
        if fit.on_epoch:
            fit.on_epoch(epoch)
        model.train()
        sums: dict[str, float] = {}
        steps = 0
        bar = tqdm(fit.batches(epoch), total=fit.steps_per_epoch, desc=f"{fit.name} {epoch + 1}/{fit.epochs}",
                   disable=not world.is_main, leave=False, mininterval=2.0)  # fmt: skip
        for batch in bar:
            terms = model(batch)
            fit.optimizer.zero_grad(set_to_none=True)
            terms["loss"].backward()
            if fit.grad_clip > 0:
                nn.utils.clip_grad_norm_(fit.objective.parameters(), fit.grad_clip)
            fit.optimizer.step()
            if fit.scheduler:
                fit.scheduler.step()
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            steps += 1
            bar.set_postfix(loss=f"{float(terms['loss'].detach()):.4f}", refresh=False)
        bar.close()
        train = distributed.mean_over_ranks({k: v / max(steps, 1) for k, v in sums.items()}, world)
        fit.objective.eval()
        with torch.no_grad():
            val = fit.validate(fit.objective)
        record = {"epoch": epoch + 1, **{f"train_{k}": v for k, v in train.items()},
                  **{f"val_{k}": v for k, v in val.items()}, "lr": fit.optimizer.param_groups[0]["lr"]}  # fmt: skip
        fit.history.append(record)
        if val["loss"] < best_loss - 1e-6:
            best_loss, bad_epochs = val["loss"], 0
            best_state = copy.deepcopy(fit.objective.state_dict())
        else:
            bad_epochs += 1
        stopped = distributed.broadcast(fit.patience > 0 and bad_epochs >= fit.patience, world)
        if world.is_main:
            save_torch(checkpoint_path, _checkpoint(fit, epoch, best_state, best_loss, bad_epochs))
            print(f"[{fit.name}] epoch {epoch + 1}/{fit.epochs} train {train.get('loss', 0):.4f} "
                  f"val {val['loss']:.4f}" + (" (early stop)" if stopped else ""), flush=True)  # fmt: skip
        distributed.barrier(world)
    fit.objective.load_state_dict(best_state)
    return fit.history


def plot_history(history: list[dict], path: Path, title: str) -> None:
    """Training and validation curves of every loss term over epochs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not history:
        return
    terms = sorted({k[6:] for row in history for k in row if k.startswith("train_")})
    fig, axes = plt.subplots(1, len(terms), figsize=(3.2 * len(terms), 3), squeeze=False)
    epochs = [row["epoch"] for row in history]
    for ax, term in zip(axes[0], terms):
        for split in ("train", "val"):
            values = [row.get(f"{split}_{term}") for row in history]
            if any(v is not None for v in values):
                ax.plot(epochs, [math.nan if v is None else v for v in values], label=split)
        ax.set_title(term)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def train_stage(ctx, fit: Fit, title: str) -> dict:
    """Run ``fit`` in its stage folder, save the models, draw the loss curve and validate the final state.

    Returns the stage's common metrics: ``epochs_run``, ``val`` (``fit.validate`` of the kept state) and
    ``history``."""
    history = run_fit(fit, ctx.stage_dir(fit.name), ctx.world)
    ctx.save_models()
    if ctx.world.is_main:
        plot_history(history, ctx.stage_dir(fit.name) / "loss.png", title)
    fit.objective.eval()
    with torch.no_grad():
        final = fit.validate(fit.objective)
    return {"epochs_run": len(history), "val": final, "history": history}
