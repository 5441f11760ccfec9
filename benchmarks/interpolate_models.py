"""Average two fine-tunes of one model in weight space: ``(1 - alpha) * A + alpha * B``.

    python benchmarks/interpolate_models.py PREVIOUS.safetensors RUN/best.safetensors --alpha 0.85 --out M.safetensors

A fine-tune that learns a new layout can lose a little on the old ones; the straight line
between the model it started from and where it ended keeps most of both (Wortsman et al.,
"Robust fine-tuning of zero-shot models", 2022: WiSE-FT). Choose ``alpha`` on the selection
half of MNIST's test writers, never on the report half. Both files must be the same network
(B fine-tuned from A); batch-norm statistics are averaged like the weights. The output's
metadata is B's, with ``init`` naming both files and ``alpha``.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.models.checkpoint import load_model, save_model


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", help="the model the fine-tune started from")
    p.add_argument("b", help="the fine-tuned model")
    p.add_argument("--alpha", type=float, required=True, help="weight of B, 0..1")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    if not 0 <= args.alpha <= 1:
        sys.exit("--alpha must be between 0 and 1")
    a, info_a = load_model(args.a, "cpu")
    b, info_b = load_model(args.b, "cpu")
    if (info_a.arch, info_a.head) != (info_b.arch, info_b.head):
        sys.exit(f"{info_a.arch}/{info_a.head} and {info_b.arch}/{info_b.head} are different networks")
    sa, sb = a.state_dict(), b.state_dict()
    b.load_state_dict(
        {
            k: (sa[k].float() * (1 - args.alpha) + v.float() * args.alpha).to(v.dtype) if v.is_floating_point() else v
            for k, v in sb.items()
        }  # fmt: skip
    )
    meta = {k: v for k, v in info_b.meta.items() if k not in ("format", "created", "version")}
    meta["init"] = f"{1 - args.alpha:g} x {Path(args.a).name} + {args.alpha:g} x {args.b}, its fine-tune"
    save_model(args.out, b, meta)
    print(f"wrote {args.out}: {1 - args.alpha:g} x {args.a} + {args.alpha:g} x {args.b}")


if __name__ == "__main__":
    main()
