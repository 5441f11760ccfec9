"""Making a model's ONNX file: exported from its safetensors, then quantized to int8.

    digitsum export-onnx MODEL.safetensors            # MODEL.int8.onnx beside it
    digitsum export-onnx MODEL.safetensors --fp32     # MODEL.onnx, unquantized

The ONNX file is never made by hand: ``torch.onnx.export`` traces the very network
``core.models.checkpoint.load_model`` builds, and ONNX Runtime's own tools quantize it statically
(integer operators, per-channel int8 weights, uint8 activations) with ranges measured on composed images
from the bundled digit bank (``CALIBRATION_IMAGES`` of them, seed ``CALIBRATION_SEED``: no
held-out writer's digit). The graph takes uint8 images (n, 40, 168) and gives the digit
probabilities (n, 4, 10) of a digits model, or the sum probabilities (n, 37) of a sum model;
``core.predict.onnx_model`` does the rest in numpy. Its metadata names the safetensors file's SHA-256,
so a retrained model never runs on a stale graph, and carries the model card's figures.

Needs torch, ``onnx`` and ``onnxscript`` (``pip install 'digitsum[onnx]'``); prediction
with the result needs only ``onnxruntime``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.errors import exception_line
from core.models.onnx_file import FORMAT, INPUT, OnnxExportError, file_sha256

CALIBRATION_IMAGES, CALIBRATION_SEED = 256, 20261126
OPSET = 18


class _Readings(nn.Module):
    """What the ONNX graph computes: uint8 images in, the probabilities ``core.predict.onnx_model`` reads out."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        # registered modules, so that the exporter sees their weights as the model's own
        self.stem, self.rest = _grey_stem(model) or (None, None)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.unsqueeze(1).float() / 255.0  # (n, 1, 40, 168), as core.predict.predictor feeds the model
        net = self.model
        if self.stem is None:
            feats = net.backbone(net.norm(x))
        else:
            feats = self.rest(self.stem((x - net.norm.mean[:, :1]) / net.norm.std[:, :1]))
        # a digits head gives (n, 4, 10), whose sum distribution core.predict.onnx_model convolves in
        # numpy; a sum head gives (n, 37)
        return F.softmax(net.head(feats).float(), dim=-1)


def _grey_stem(model: nn.Module) -> tuple[nn.Conv2d, nn.Module] | None:
    """The backbone's first convolution folded to read the grey channel once, and the rest.

    A ResNet-50 normalises its grey image into three equal channels; where their mean and std
    are equal too, its first convolution over them is one convolution over the grey channel with
    the weights summed over the three (exact, padding included: it pads the normalised image).
    That spares the graph the copy into three channels and two thirds of its first layer.
    """
    norm, backbone = model.norm, model.backbone
    if not isinstance(backbone, nn.Sequential) or not isinstance(backbone[0], nn.Conv2d):
        return None
    conv = backbone[0]
    if norm.channels == 1 or conv.in_channels != norm.channels or conv.groups != 1 or conv.padding_mode != "zeros":
        return None
    if not (torch.all(norm.mean == norm.mean.flatten()[0]) and torch.all(norm.std == norm.std.flatten()[0])):
        return None  # ImageNet's per-channel statistics: the channels differ
    stem = nn.Conv2d(1, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation, bias=False)
    stem.weight.data.copy_(conv.weight.detach().sum(dim=1, keepdim=True))
    if conv.bias is not None:
        stem.bias = nn.Parameter(conv.bias.detach().clone())
    return stem, backbone[1:]


def export_fp32(model: nn.Module, dest: Path) -> None:
    """Write ``model`` (eval, fp32, CPU) as an ONNX graph with a free batch dimension."""
    wrapped = _Readings(model.eval().float().cpu()).eval()
    example = torch.zeros(2, 40, 168, dtype=torch.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on its own internals
        program = torch.onnx.export(
            wrapped,
            (example,),
            input_names=[INPUT],
            output_names=["probs"],
            dynamic_shapes={"images": {0: torch.export.Dim("batch", min=1, max=1 << 16)}},
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
        program.optimize()
        program.save(str(dest), external_data=False)


def calibration_images(count: int = CALIBRATION_IMAGES, seed: int = CALIBRATION_SEED) -> np.ndarray:
    """uint8 (count, 40, 168) composed from the bundled bank's training writers."""
    from core.synth.bank import load_bank
    from core.synth.composer import compose_numpy

    images, _ = compose_numpy(load_bank().subset("train"), count, seed)
    return images


def quantize(fp32: Path, dest: Path, images: np.ndarray) -> None:
    """Quantize ``fp32`` statically into ``dest``: int8 weights per channel, uint8 activations."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(images[i : i + 32] for i in range(0, len(images), 32))

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {INPUT: batch}

    prepared = dest.with_name(dest.name + ".pre.onnx")
    try:
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(dest),
            Reader(),
            # integer operators themselves (QLinearConv, QLinearAdd), the ReLUs among them: 1.25x
            # the QDQ form here, which left 50 quantize/dequantize pairs between them
            quant_format=QuantFormat.QOperator,
            per_channel=True,
            # 7-bit weights: exact on CPUs without VNNI too, where u8*s8 pairs can saturate
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["Conv", "Relu", "Add", "MaxPool", "GlobalAveragePool", "AveragePool"],
        )
    finally:
        prepared.unlink(missing_ok=True)


def _stamp(path: Path, model_path: Path, sha256: str, info, precision: str) -> None:
    """Name the source model (SHA-256) and carry its card's metadata in the ONNX file."""
    import onnx

    graph = onnx.load(str(path))
    facts = {
        "format": FORMAT,
        "precision": precision,
        "model": model_path.name,
        "model_sha256": sha256,
        "digitsum": json.dumps(info.meta),
    }
    del graph.metadata_props[:]
    for key, value in facts.items():
        graph.metadata_props.add(key=key, value=value)
    onnx.save(graph, str(path))


def export_onnx(
    model_path, dest=None, int8: bool = True, announce=None, sha256: str | None = None, fallback=None
) -> Path:
    """Write the ONNX file of a model file (default: ``MODEL.int8.onnx`` beside it), atomically.

    Parameters
    ----------
    model_path : str or Path
        A ``.safetensors`` model file.
    dest : str or Path, optional
        Where to write (default: ``core.models.onnx_file.onnx_path(model_path, int8)``).
    int8 : bool
        Quantize (the file prediction uses on a CPU); False keeps fp32.
    announce : callable, optional
        Told ``announce(text)`` once the model has loaded, before the slow steps.
    sha256 : str, optional
        The model file's SHA-256, if known (else read here). Taken before its weights are
        loaded: a file replaced meanwhile (a run's next best epoch) leaves a stamp that
        matches no file, never one that vouches for other weights.
    fallback : str or Path, optional
        Where to write instead when ``dest`` cannot be written (returned then).

    Raises
    ------
    OnnxExportError
        With a one-line reason: a missing package, or a step that failed.
    """
    from core.files import atomic_path
    from core.models.checkpoint import load_model
    from core.models.onnx_file import onnx_path

    model_path = Path(model_path)
    dest = Path(dest) if dest else onnx_path(model_path, int8)
    try:
        import onnx  # noqa: F401  (the exporter and the quantizer both need it)
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise OnnxExportError(f"making an ONNX file needs {exc.name}: pip install 'digitsum[onnx]'") from None
    sha256 = sha256 or file_sha256(model_path)
    model, info = load_model(model_path, "cpu")  # a broken model is its own error, before any note
    if announce is not None:
        announce(f"making {dest.name}, the model's {'int8' if int8 else 'fp32'} ONNX file (once, ~30 s)")
    with tempfile.TemporaryDirectory(prefix="digitsum-onnx-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        try:
            export_fp32(model, fp32)
            made = fp32
            if int8:
                made = Path(tmp) / "int8.onnx"
                quantize(fp32, made, calibration_images())
            _stamp(made, model_path, sha256, info, "int8" if int8 else "fp32")
        except OnnxExportError:
            raise
        except Exception as exc:
            raise OnnxExportError(f"{model_path.name}: ONNX export failed: {exception_line(exc)[:200]}") from None
        for target in [dest] + ([Path(fallback)] if fallback else []):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(target) as out:
                    shutil.copyfile(made, out)
                return target
            except OSError as exc:
                failure = exc
        raise failure
