"""Running the same training code on one process or several (``torchrun``, DistributedDataParallel, gloo).

Under ``torchrun`` the environment names this process's rank and the world size; otherwise the world is
one process and every helper here is a no-op. The convention everywhere in training: every rank draws the
same seeded epoch order and takes its own share (``shard``); gradients are averaged by DDP; only the main
rank writes files, the others wait at a ``barrier``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def init_world() -> World:
    """Join the process group if started by torchrun (gloo: CPU); a single-process world otherwise."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return World(dist.get_rank(), dist.get_world_size())


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def wrap(module: nn.Module, world: World) -> nn.Module:
    """DDP around ``module`` when there are several processes (parameters are synced from rank 0)."""
    if not world.distributed:
        return module
    return nn.parallel.DistributedDataParallel(module, find_unused_parameters=True)


def unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


def shard(items: torch.Tensor, world: World) -> torch.Tensor:
    """This rank's share of an epoch's order, cut to equal lengths so every rank runs the same steps."""
    if not world.distributed:
        return items
    per_rank = len(items) // world.size
    return items[world.rank * per_rank : (world.rank + 1) * per_rank]


def mean_over_ranks(values: dict[str, float], world: World) -> dict[str, float]:
    """Average of per-rank numbers (metrics), identical on every rank."""
    if not world.distributed or not values:
        return values
    keys = sorted(values)
    tensor = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64)
    dist.all_reduce(tensor)
    return {k: float(v) / world.size for k, v in zip(keys, tensor)}


def broadcast(obj, world: World):
    """The main rank's ``obj`` on every rank (decisions such as early stopping must agree)."""
    if not world.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def close(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()
