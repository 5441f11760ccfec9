"""Making a trained model fast for prediction: folded batch norms, bf16 weights, int8 on x86.

    python -m core.inference resources/models/digitsum-resnet50.safetensors  # writes MODEL.int8.json

``prepare_for_inference`` folds each batch norm into the convolution before it, goes
channels_last and, for bf16, stores convolution weights in bf16. ``int8_model`` swaps a
resnet50/digits backbone for an int8 one (oneDNN/fbgemm kernels, AVX-512 VNNI or AVX2):
on this project's 2-core AVX-512 test machine about 1.9x bf16 and 3.5x fp32, with the
same held-out accuracy (benchmarks/RESULTS.md). The head stays fp32.

int8 needs the range of every activation, measured once on composed images (``calibrate``:
256 images from the bundled digit bank, seed ``CALIBRATION_SEED``, ~10 s) and kept as a
small JSON file: beside the model (``MODEL.int8.json``, shipped for the default model:
rerun the command above whenever that model changes) or in the user's cache folder. The
file names the model's SHA-256, so a retrained model never uses stale ranges. Building the
int8 model from known ranges takes ~0.3 s. The quantized kernels (``torch.ops.quantized``)
are deprecated in PyTorch in favour of torchao; where they are gone, ``int8_model`` says
why and the Predictor uses bf16 or fp32.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import platform
import sys
import warnings
from pathlib import Path

import torch
from torch import nn

from core.errors import DigitsumError, one_line
from core.resnet import Bottleneck, ResNet50

FORMAT = "digitsum-int8/2"
# torch warns once per process that quantized tensors are deprecated: a user of the CLI or
# the app can do nothing about it (we fall back by ourselves when they are gone). A filter
# rather than catch_warnings, which is not thread-safe (the GUI reads images meanwhile).
warnings.filterwarnings(
    "ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_per_channel", category=UserWarning
)
CALIBRATION_IMAGES, CALIBRATION_SEED = 256, 20261126


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """True where this CPU multiplies bf16 natively (AVX512-BF16 or AMX) and oneDNN uses it.

    oneDNN also runs bf16 on plain AVX-512 by emulation, which is slower than fp32: only
    native support counts. Read from /proc/cpuinfo (Linux); elsewhere we stay with fp32.
    """
    if platform.machine().lower() not in ("x86_64", "amd64") or not torch.backends.mkldnn.is_available():
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return False
    return bool({"avx512_bf16", "amx_bf16"} & set(flags)) and torch.ops.mkldnn._is_mkldnn_bf16_supported()


@torch.no_grad()
def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Make ``conv`` compute ``bn(conv(x))`` (eval statistics), in place: no copies of the model."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # (C_out,)
    conv.weight.mul_(scale.view(-1, 1, 1, 1).to(conv.weight.dtype))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias, requires_grad=False)


def fold_batch_norms(model: nn.Module) -> nn.Module:
    """Fold each eval-mode BatchNorm2d into the Conv2d right before it, in place.

    Only pairs whose order is certain are folded: neighbours in an ``nn.Sequential`` and
    the (convN, bnN) attributes of ResNet-50 and its blocks. Saves one pass over
    every feature map; the result differs from the unfolded model by rounding only. The
    model must not be trained afterwards (the batch norms become identities).
    """

    def foldable(conv, bn):
        return type(conv) is nn.Conv2d and type(bn) is nn.BatchNorm2d and bn.track_running_stats and bn.affine

    for module in list(model.modules()):
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for a, b in itertools.pairwise(names):
                if foldable(module._modules[a], module._modules[b]):
                    _fold(module._modules[a], module._modules[b])
                    module._modules[b] = nn.Identity()
        elif isinstance(module, (ResNet50, Bottleneck)):
            for i in range(1, 4):
                conv, bn = getattr(module, f"conv{i}", None), getattr(module, f"bn{i}", None)
                if foldable(conv, bn):
                    _fold(conv, bn)
                    setattr(module, f"bn{i}", nn.Identity())
    return model


def prepare_for_inference(model: nn.Module, precision: str) -> nn.Module:
    """Fold batch norms, go channels_last and, for bf16, store conv weights in bf16."""
    model = fold_batch_norms(model.eval()).to(memory_format=torch.channels_last)
    if precision == "bf16":
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                m.to(torch.bfloat16)  # autocast leaves bf16 weights as they are: no cast per batch
    return model


class QuantizeError(DigitsumError, RuntimeError):
    """int8 is not possible here or for this model; ``str()`` is a one-line reason."""


def int8_supported() -> bool:
    """True on x86-64 CPUs with AVX2 or better, where PyTorch's x86 int8 kernels run."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        if "x86" not in torch.backends.quantized.supported_engines:
            return False
    except Exception:  # the quantized backends are gone from this torch
        return False
    return torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sidecar_path(model_path) -> Path:
    """``model.safetensors`` -> ``model.int8.json``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".int8.json")


def cache_path(sha256: str) -> Path:
    """Where ranges measured for user models are kept (XDG cache, LOCALAPPDATA on Windows)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "digitsum" / "int8" / f"{sha256}.json"


def _resnet_trunk(model: nn.Module):
    """(conv1, bn1, maxpool, [(name, Bottleneck), ...]) of a resnet50/digits backbone."""
    kids = list(model.backbone.children()) if isinstance(model.backbone, nn.Sequential) else []
    if (
        len(kids) != 8
        or type(kids[0]) is not nn.Conv2d
        or type(kids[1]) is not nn.BatchNorm2d
        or not isinstance(kids[3], nn.MaxPool2d)
        or not all(isinstance(b, Bottleneck) for layer in kids[4:] for b in layer)
    ):
        raise QuantizeError("int8 is built for the resnet50/digits model only")
    blocks = [(f"{i}.{j}", block) for i in range(4, 8) for j, block in enumerate(kids[i])]
    return kids[0], kids[1], kids[3], blocks


@torch.no_grad()
def calibrate(model: nn.Module, count: int = CALIBRATION_IMAGES, seed: int = CALIBRATION_SEED) -> dict:
    """Measure the activation ranges of ``model`` (fp32, eval) on composed images.

    Each point where the int8 model holds a quantized tensor gets a histogram observer (as
    PyTorch's x86 recipe: 7-bit unsigned activations, ranges that minimise the L2 error).
    Returns the ``observers`` mapping of a ranges file: point -> [scale, zero_point].
    """
    from torch.ao.quantization.observer import HistogramObserver

    from core.synth import compose_numpy, load_bank

    conv1, bn1, pool, blocks = _resnet_trunk(model)
    model = model.eval()
    images, _ = compose_numpy(load_bank().subset("train"), count, seed)  # no held-out writer's digit
    x = torch.from_numpy(images).unsqueeze(1).float() / 255.0  # (count, 1, 40, 168)
    observers: dict = {}

    def seen(point, t):
        if point not in observers:
            observers[point] = HistogramObserver(reduce_range=True)
        observers[point](t)
        return t

    relu = torch.relu
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notices
        for s in range(0, count, 64):
            h = seen("input", model.norm(x[s : s + 64]))  # (b, 3, 40, 168)
            h = pool(seen("stem", relu(bn1(conv1(h)))))
            for name, b in blocks:
                out = seen(f"{name}.conv1", relu(b.bn1(b.conv1(h))))
                out = seen(f"{name}.conv2", relu(b.bn2(b.conv2(out))))
                out = seen(f"{name}.conv3", b.bn3(b.conv3(out)))
                identity = h if b.downsample is None else seen(f"{name}.downsample", b.downsample(h))
                h = seen(f"{name}.out", relu(out + identity))
        return {
            point: [float(scale), int(zero)]
            for point, obs in observers.items()
            for scale, zero in [obs.calculate_qparams()]
        }


class QConv(nn.Module):
    """A Conv2d (+ the BatchNorm after it, + ReLU) with int8 weights, on quint8 tensors."""

    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d, relu: bool, qparams):
        super().__init__()
        with torch.no_grad():
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)  # fold the batch norm: (C_out,)
            weight = conv.weight.float() * scale.view(-1, 1, 1, 1)
            bias = (0 if conv.bias is None else conv.bias) * scale + bn.bias - bn.running_mean * scale
            # per output channel, symmetric, as PyTorch's x86 recipe
            w_scale = (weight.abs().amax(dim=(1, 2, 3)) / 127.5).clamp(min=torch.finfo(torch.float32).eps)
            q_weight = torch.quantize_per_channel(
                weight, w_scale.double(), torch.zeros_like(w_scale, dtype=torch.long), 0, torch.qint8
            )
            self.packed = torch.ops.quantized.conv2d_prepack(
                q_weight, bias.float(), list(conv.stride), list(conv.padding), list(conv.dilation), conv.groups
            )
        self.op = torch.ops.quantized.conv2d_relu if relu else torch.ops.quantized.conv2d
        self.scale, self.zero_point = float(qparams[0]), int(qparams[1])

    def forward(self, x):
        return self.op(x, self.packed, self.scale, self.zero_point)


class QBottleneck(nn.Module):
    """ResNet-50's Bottleneck on quint8 tensors: three QConvs and a quantized add + ReLU."""

    def __init__(self, block, name: str, ranges: dict):
        super().__init__()
        self.conv1 = QConv(block.conv1, block.bn1, True, ranges[f"{name}.conv1"])
        self.conv2 = QConv(block.conv2, block.bn2, True, ranges[f"{name}.conv2"])
        self.conv3 = QConv(block.conv3, block.bn3, False, ranges[f"{name}.conv3"])
        ds = block.downsample
        self.downsample = None if ds is None else QConv(ds[0], ds[1], False, ranges[f"{name}.downsample"])
        self.scale, self.zero_point = float(ranges[f"{name}.out"][0]), int(ranges[f"{name}.out"][1])

    def forward(self, x):
        out = self.conv3(self.conv2(self.conv1(x)))
        identity = x if self.downsample is None else self.downsample(x)
        return torch.ops.quantized.add_relu(out, identity, self.scale, self.zero_point)


class QResNetTrunk(nn.Module):
    """ResNet-50 without its pooling and fc, in int8: float (B, 3, H, W) in, float (B, 2048, h, w) out."""

    def __init__(self, model: nn.Module, ranges: dict):
        super().__init__()
        conv1, bn1, pool, blocks = _resnet_trunk(model)
        self.scale, self.zero_point = float(ranges["input"][0]), int(ranges["input"][1])
        self.stem = QConv(conv1, bn1, True, ranges["stem"])
        self.pool = pool
        self.blocks = nn.Sequential(*(QBottleneck(b, name, ranges) for name, b in blocks))

    def forward(self, x):
        x = torch.quantize_per_tensor(x, self.scale, self.zero_point, torch.quint8)
        return self.blocks(self.pool(self.stem(x))).dequantize()


def quantize(model: nn.Module, ranges: dict) -> nn.Module:
    """Replace ``model``'s backbone by its int8 version, with the given activation ranges.

    Raises
    ------
    QuantizeError
        If the model is not resnet50/digits, the ranges do not fit it, or torch fails.
    """
    _resnet_trunk(model)
    try:
        torch.backends.quantized.engine = "x86"
        trunk = QResNetTrunk(model, ranges).eval()
        with torch.no_grad():
            trunk(torch.zeros(1, model.norm.channels, 40, 168))  # fail here, not in the first batch
    except KeyError as exc:
        raise QuantizeError(f"int8 ranges do not fit this model (no {exc.args[0]})") from None
    except Exception as exc:
        raise QuantizeError(
            f"int8 unavailable: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:160]}"
        ) from None
    model.backbone = trunk
    return model


def observers_problem(observers) -> str:
    """Why ``observers`` (a ranges file's ``observers``) cannot build an int8 model, or ``""``.

    Each point maps to ``[scale, zero_point]``: a finite scale > 0 and a zero point 0..255
    (quint8). A file that says otherwise is ignored, never half-used.
    """
    if not isinstance(observers, dict) or not observers:
        return "no observers mapping"
    for point, value in observers.items():
        point = one_line(point)  # a key of the file's own: one line in a note
        if not (isinstance(value, list) and len(value) == 2):
            return f"observers.{point[:40]}: expected [scale, zero_point]"
        scale, zero = value
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < float("inf"):
            return f"observers.{point[:40]}: scale must be a finite number > 0"
        if isinstance(zero, bool) or not isinstance(zero, int) or not 0 <= zero <= 255:
            return f"observers.{point[:40]}: zero point must be a whole number 0..255"
    return ""


def read_ranges(model_path, sha256: str | None = None) -> dict | None:
    """The activation ranges for this model file from its sidecar or the cache, or None."""
    return read_ranges_noting(model_path, sha256)[0]


def read_ranges_noting(model_path, sha256: str | None = None) -> tuple[dict | None, str]:
    """``read_ranges``, and a one-line note when the sidecar beside the model was there but ignored."""
    model_path = Path(model_path)
    note = ""
    for path in (sidecar_path(model_path), None):
        if path is None:
            sha256 = sha256 or file_sha256(model_path)
            path = cache_path(sha256)
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):  # (a nesting too deep for the parser is RecursionError)
            data = None
        problem = "not a JSON mapping" if not isinstance(data, dict) else ""
        if not problem and data.get("format") != FORMAT:  # another format's file: not ours to judge
            continue
        if not problem:
            sha256 = sha256 or file_sha256(model_path)
            if data.get("model_sha256") != sha256:
                continue  # the ranges of another (older) version of the model: stale, not damaged
            problem = observers_problem(data.get("observers"))
            if not problem:
                return data["observers"], ""
        if path == sidecar_path(model_path):
            note = f"{path.name} ignored ({problem}); int8 needs valid activation ranges"
    return None, note


def write_ranges(model_path, observers: dict, dest=None) -> Path:
    """Write a ranges file for ``model_path`` (default: in the cache), atomically."""
    from core.files import atomic_path

    sha256 = file_sha256(model_path)
    dest = Path(dest) if dest else cache_path(sha256)
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "format": FORMAT,
        "model": Path(model_path).name,
        "model_sha256": sha256,
        "torch": torch.__version__.split("+")[0],
        "calibration": {"images": CALIBRATION_IMAGES, "seed": CALIBRATION_SEED, "bank": "bundled"},
        "observers": observers,
    }
    with atomic_path(dest) as tmp:
        Path(tmp).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return dest


def int8_model(model: nn.Module, model_path, asked: bool, threads: int):
    """``(model with an int8 backbone, "")`` where this CPU and model allow it, else ``(None, reason)``.

    Without ``asked`` (precision "auto") int8 is taken only where activation ranges were
    measured already (the default model ships them); ``asked`` measures them if needed
    (~10 s, once per model file; kept in the user's cache). ``threads``: the intra-op
    threads that will run the model (oneDNN lays out int8 weights for the thread count it
    sees when packing them; packed for 2 threads and run by 1 they are ~40% slower).
    """
    if not int8_supported():
        return None, "int8 needs an x86-64 CPU with AVX2" if asked else ""
    ranges, note = read_ranges_noting(model_path)
    if ranges is None and asked:
        try:
            ranges = calibrate(model)
        except QuantizeError as exc:
            return None, str(exc)
        except Exception as exc:  # torch.ao's observers gone or failing
            return None, f"int8 calibration failed: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:160]}"
        try:
            write_ranges(model_path, ranges)
        except OSError:
            pass  # no cache folder: measure again next time
    if ranges is None:
        return None, note
    try:
        default = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return quantize(model, ranges), ""
        finally:
            torch.set_num_threads(default)
    except QuantizeError as exc:
        return None, str(exc)


def main(argv=None) -> int:
    import argparse

    from core.checkpoint import load_model

    p = argparse.ArgumentParser(
        description="Measure a model's int8 activation ranges; write MODEL.int8.json beside it."
    )
    p.add_argument("model", help="a .safetensors model file")
    p.add_argument(
        "--cache", action="store_true", help="write to the user's cache folder instead (default: beside the model)"
    )
    args = p.parse_args(argv)
    model, _ = load_model(args.model, "cpu")
    dest = write_ranges(args.model, calibrate(model), None if args.cache else sidecar_path(args.model))
    print(f"wrote {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
