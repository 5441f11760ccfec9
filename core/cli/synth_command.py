"""``digitsum synth``: a folder of composed four-digit images and their ``labels.csv``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core.argtypes import MAX_SEED, int_in
from core.errors import CommandError, reason
from core.spec import LAYOUTS


def add_synth_parser(sub: argparse._SubParsersAction) -> None:
    """The ``synth`` sub-command: where, how many, from which digits, laid out how."""
    p = sub.add_parser("synth", help="compose labelled images from MNIST digits")
    p.add_argument("out_dir", metavar="OUT_DIR")
    p.add_argument("--count", type=int_in(1), required=True, help="number of images, at least 1")
    p.add_argument(
        "--mnist", default=None, help="digits: .npz, torchvision MNIST folder or IDX files (default: bundled bank)"
    )
    p.add_argument(
        "--split",
        default=None,
        choices=["all", "train", "val", "holdout"],
        help="whose digits to use, by writer where the source names writers, else by index "
        "(default: holdout for the bundled bank, its digits by MNIST test writers, strangers to every "
        "training digit, whose figures the model card reports; all for --mnist)",
    )
    p.add_argument("--seed", type=int_in(0, MAX_SEED), default=0, help=f"random seed, 0 to {MAX_SEED} (default: 0)")
    p.add_argument(
        "--force",
        action="store_true",
        help="write into OUT_DIR even if it holds files: images of the same names and labels.csv "
        "are replaced (default: off, a folder that is not empty is refused)",
    )
    p.add_argument(
        "--layout",
        default="synth",
        choices=LAYOUTS,
        help="where digits go: synth (ours: uneven gaps, touching neighbours), grid (an independent "
        "layout, one digit per quarter of the width, jittered), for figures not tied to ours, or touch "
        "(neighbours close, touching or overlapping: each digit's box starts 0.5-1.0 of the previous box's "
        "width after it) (default: synth)",
    )


def cmd_synth(args: argparse.Namespace) -> int:
    """Compose ``args.count`` images into ``args.out_dir``; returns the exit status.

    Raises
    ------
    core.errors.CommandError
        An output that is a file, a folder in use or not empty (without ``--force``).
    """
    from core.limits import require_disk
    from core.progress_bar import progress_bar
    from core.synth.bank import load_bank
    from core.synth.folder import SYNTH_PNG_BYTES, write_synthetic_folder
    from core.synth.splits import INDEX_SPLIT_NOTE

    if os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
        raise CommandError(f"{args.out_dir}: a file, not a folder")
    bank = load_bank(args.mnist)  # empty, or labels that are not 0..9: one line, before any folder is made
    split = args.split or ("all" if args.mnist else "holdout")
    if split != "all" and bank.split_by == "index":
        print(f"digitsum synth: {INDEX_SPLIT_NOTE.format(source=args.mnist or 'the bundled bank')}", file=sys.stderr)
    bank = bank.subset(split)
    require_disk("--count", args.out_dir, args.count, SYNTH_PNG_BYTES)  # before any folder is made
    _refuse_used_folder(args.out_dir, args.force, args.count)
    with progress_bar(args.count, "img") as bar:
        out = write_synthetic_folder(
            args.out_dir, args.count, bank, seed=args.seed, progress=bar.update, layout=args.layout
        )
    print(f"wrote {args.count} images and labels.csv to {out}", file=sys.stderr)
    return 0


def _refuse_used_folder(folder: str, force: bool, count: int) -> None:
    """``synth`` writes synth_NNNNN.png and labels.csv: into a new or empty folder, or with --force.

    The folder is made and locked first (``core.folder_lock.claim_folder``), then looked into: of
    two commands started into one new folder, the second is refused instead of mixing its
    images and sums with the first's.
    """
    from core.folder_lock import claim_folder, refuse_foreign_entries
    from core.synth.folder import synth_names

    if os.path.exists(folder) and not os.path.isdir(folder):
        raise CommandError(f"{folder}: a file, not a folder")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"{folder}: cannot create the folder ({reason(exc)})") from None
    if not claim_folder(Path(folder)):
        raise CommandError(f"{folder}: another digitsum command is writing into this folder now; choose another")
    if force:  # a link named synth_00000.png would take the image; a pipe would take it forever
        refuse_foreign_entries(Path(folder), writes=synth_names(count))
        return
    try:
        with os.scandir(folder) as entries:
            names = sorted(entry.name for entry in entries)
    except OSError as exc:
        raise CommandError(f"{folder}: cannot list folder ({reason(exc)})") from None
    if names:
        shown = "labels.csv" if "labels.csv" in names else names[0]
        raise CommandError(
            f"{folder} is not empty ({len(names)} entries, e.g. {shown}); give a new or empty "
            "folder, or --force to replace images of the same names and labels.csv"
        )
