"""``digitsum export-onnx``: a model's ONNX file (int8 as the CPU runs it, or fp32) to run it elsewhere."""

from __future__ import annotations

import argparse
import os
import sys

from core.errors import CommandError


def add_export_onnx_parser(sub: argparse._SubParsersAction) -> None:
    """The ``export-onnx`` sub-command: the model, where its ONNX file goes, and its precision."""
    p = sub.add_parser(
        "export-onnx",
        help="write a model's ONNX file (int8, as the CPU runs it; or fp32) to run it elsewhere",
        description="Write the ONNX file of a digitsum model: uint8 images (n, 40, 168) in, the digit "
        "probabilities (n, 4, 10) out (sum models: the sum's (n, 37)); the metadata names the model "
        "file's SHA-256 and carries its card's figures (key 'digitsum'). Needs pip install 'digitsum[onnx]'.",
    )
    p.add_argument("model", metavar="MODEL", help="a .safetensors model file")
    p.add_argument(
        "--output", "-o", default=None, help="ONNX file (default: MODEL.int8.onnx beside MODEL; MODEL.onnx with --fp32)"
    )
    p.add_argument("--fp32", action="store_true", help="keep fp32 weights and activations (default: int8)")


def cmd_export_onnx(args: argparse.Namespace) -> int:
    """Write the ONNX file of ``args.model``; returns the exit status.

    Raises
    ------
    core.errors.CommandError
        If the output named is the model file itself.
    """
    from core.models.info import read_model_info
    from core.models.onnx_export import export_onnx
    from core.models.onnx_file import onnx_path

    read_model_info(args.model)  # a file that is no model: one line before the exporter loads
    dest = args.output or onnx_path(args.model, int8=not args.fp32)
    if os.path.exists(dest) and os.path.samefile(dest, args.model):
        raise CommandError(f"--output {dest} is the model itself")
    out = export_onnx(args.model, dest, int8=not args.fp32)
    size = out.stat().st_size / 1e6
    print(f"wrote {out} ({'fp32' if args.fp32 else 'int8'}, {size:.1f} MB)", file=sys.stderr)
    return 0
