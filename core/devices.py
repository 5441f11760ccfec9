"""Devices, precision and torchrun: the runtime facts shared by prediction and training.

torch is imported where it is needed, not by this module: a prediction on the CPU outside
torchrun (``DistContext("cpu")``) never imports it.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.cpu import cpu_has_native_bf16
from core.errors import DigitsumError, exception_line, one_line

if TYPE_CHECKING:
    import torch


class DeviceError(DigitsumError, ValueError):
    """A --device that this machine does not have; ``str()`` is a one-line reason."""


TORCHRUN_VARIABLES = ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def torchrun_world() -> int:
    """The number of processes of the torchrun job this process belongs to (1: none).

    Read from ``WORLD_SIZE``; a set that is incomplete or not numbers (a stray ``WORLD_SIZE=2``
    in a shell) is a one-line :class:`DeviceError`, never a traceback or a wait for ranks
    that will not come.
    """
    told = os.environ.get("WORLD_SIZE", "").strip()
    if told in ("", "1"):
        return 1
    missing = [name for name in TORCHRUN_VARIABLES if not os.environ.get(name, "").strip()]
    numbers = (told, os.environ.get("RANK", "0"), os.environ.get("LOCAL_RANK", "0"))
    if missing or not all(n.strip().isdigit() for n in numbers) or int(told) < 1:
        what = f"{', '.join(missing)} unset" if missing else "not whole numbers"
        raise DeviceError(
            f"WORLD_SIZE={one_line(told)[:20]} says this is one of several torchrun processes, but {what}: "
            "start it with torchrun, or unset WORLD_SIZE"
        )
    if int(os.environ["RANK"]) >= int(told):
        raise DeviceError(f"RANK={os.environ['RANK']} is not below WORLD_SIZE={told}: start it with torchrun")
    return int(told)


def resolve_device(spec: str = "auto") -> torch.device:
    """Turn ``auto | cpu | cuda | cuda:N`` into a device that exists here.

    ``auto`` picks CUDA when a GPU is usable, else the CPU. Asking for CUDA on a machine
    without one raises :class:`DeviceError` instead of failing later inside torch.
    """
    import torch

    if isinstance(spec, torch.device):
        spec = str(spec)
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise DeviceError(f"unknown device {spec!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"--device {spec}: no CUDA GPU is usable on this machine; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"--device {spec}: this machine has {torch.cuda.device_count()} GPU(s)")
    elif device.type != "cpu":
        raise DeviceError(f"unsupported device {spec!r}; use auto, cpu, cuda or cuda:N")
    return device


def gpu_status() -> tuple[list[tuple[str, str]], str]:
    """The usable GPUs as ``[(device spec, name)]``, and why there is none when empty."""
    import torch

    if torch.version.cuda is None and getattr(torch.version, "hip", None) is None:
        return [], "this PyTorch build has no CUDA support (a CPU-only install)"
    try:
        available = torch.cuda.is_available()
    except Exception as exc:  # a broken driver raises here on some systems
        return [], f"CUDA is not usable: {exception_line(exc)}"
    if not available:
        return [], "no NVIDIA GPU or driver was found"
    return [(f"cuda:{i}", torch.cuda.get_device_name(i)) for i in range(torch.cuda.device_count())], ""


def describe_device(device: torch.device) -> str:
    """What the status bar and the logs say: ``CUDA: <GPU name>`` or ``CPU``."""
    if getattr(device, "type", device) == "cuda":
        import torch

        return f"CUDA: {torch.cuda.get_device_name(device)}"
    return "CPU"


def auto_precision(device: torch.device) -> str:
    """``--precision auto``: bf16 on CUDA and on CPUs with native bf16, fp32 elsewhere."""
    return "bf16" if device.type == "cuda" or cpu_has_native_bf16() else "fp32"


def autocast(device: torch.device, precision: str):
    """bf16 autocast for ``precision == "bf16"``, a no-op context otherwise."""
    import torch

    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@dataclass
class DistContext:
    """This process's place in a torchrun job (or a job of one)."""

    device: object  # a torch.device, or "cpu" for a run outside torchrun that needs no torch
    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def describe(self) -> str:
        text = describe_device(self.device)
        return text if self.world == 1 else f"{text} x {self.world} processes"

    def wrap(self, model):
        if self.world == 1:
            return model
        import torch

        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def all_reduce_sum(self, t: torch.Tensor) -> torch.Tensor:
        if self.world > 1:
            import torch

            t = t.clone()
            torch.distributed.all_reduce(t)
        return t

    def all_reduce_mean(self, t: torch.Tensor) -> float:
        return self.all_reduce_sum(t.detach().float()).item() / self.world

    def barrier(self):
        if self.world > 1:
            import torch

            torch.distributed.barrier()

    def close(self):
        if self.world > 1:
            import torch

            if torch.distributed.is_initialized():
                torch.distributed.destroy_process_group()


def distributed_setup(device: torch.device) -> DistContext:
    """Join the torchrun job described by RANK / WORLD_SIZE / LOCAL_RANK, if there is one.

    gloo on the CPU, nccl on CUDA, where each process takes the GPU of its LOCAL_RANK.
    """
    world = torchrun_world()
    if world <= 1:
        return DistContext(device)
    import torch

    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        try:
            with _signals_end_the_process():
                store = _join_store(rank, world)
                torch.distributed.init_process_group(backend, store=store, rank=rank, world_size=world)
        except (RuntimeError, ValueError) as exc:  # (torch's DistStoreError is a RuntimeError)
            where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
            raise DeviceError(
                f"could not join the torchrun job (rank {rank} of {world} at {where}): {exception_line(exc)[:160]}"
            ) from None
    return DistContext(device, rank, world)


# How long the ranks of a job that torchrun did not start wait for one another (a stray
# WORLD_SIZE/RANK/MASTER_* set in a shell has no other rank: it ends here, not in torch's 30 minutes)
JOIN_TIMEOUT_S = 300


def _join_store(rank: int, world: int):
    """The job's key-value store, once every rank has joined, or ``None`` under torchrun's agent.

    torchrun's agent hosts the store and has started every rank: torch joins as it always
    does. Without it (the variables set by hand, or left in a shell), rank 0 hosts the store
    and waits at most ``JOIN_TIMEOUT_S`` for the others; the others wait as long for it. The
    store then gets torch's own timeout back, which also bounds every later collective.
    """
    from datetime import timedelta

    import torch.distributed as dist

    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() == "true":
        return None
    host, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    try:
        store = dist.TCPStore(
            host, port, world, is_master=rank == 0, timeout=timedelta(seconds=JOIN_TIMEOUT_S), wait_for_workers=True
        )
    except (RuntimeError, ValueError) as exc:
        raise RuntimeError(
            f"not every rank joined within {JOIN_TIMEOUT_S} s; a job started by hand needs all {world} "
            f"(if this is no torchrun job, unset WORLD_SIZE): {exception_line(exc)[:80]}"
        ) from None
    store.set_timeout(dist.default_pg_timeout)
    return store


@contextlib.contextmanager
def _signals_end_the_process():
    """SIGTERM and SIGHUP end the process at once while it waits for the job's other ranks.

    The CLI's handlers (``core.cli.termination``) unwind like Ctrl-C, but a Python handler runs only
    between bytecodes, and the rendezvous waits inside C++: a stray or half-started job
    ignored SIGTERM and needed SIGKILL. Nothing is written yet at this point, so nothing
    needs unwinding.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sigs = [sig for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if sig is not None]
    previous = {sig: signal.signal(sig, signal.SIG_DFL) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
