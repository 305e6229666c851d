"""Put one checkpoint's branch into another: its weights and the settings tuned for it.

A note-finding branch trained from scratch at another width (``mitkit train --amt-channels 24`` without
``--init``) has an untrained timbre branch; graft the bundled one in, then tune and refit what reads both:

    python scripts/graft_branch.py runs/amt-wide24/best.pt --branch timbre --from bundled --out runs/wide24.pt
    mitkit tune runs/wide24.pt --on data/chorale-val data/chorale-val-w data/quartet-mvt-val \\
        --keep-recall-on data/chorale-val-w

The grafted branch keeps its settings (``--branch timbre``: the clustering temperature and the polyphony
classifier with the learned count; ``--branch amt``: the note thresholds); the other branch, the model
config and the training record stay the checkpoint's. ``--out`` is never overwritten.
"""
from __future__ import annotations

import argparse
import sys

from mitkit.checkpoint import BRANCH_SETTINGS, graft_branch, load_checkpoint, save_checkpoint
from mitkit.errors import MitkitError


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="the checkpoint that receives the branch")
    ap.add_argument("--branch", required=True, choices=sorted(BRANCH_SETTINGS))
    ap.add_argument("--from", dest="donor", required=True, metavar="CHECKPOINT",
                    help="the checkpoint whose branch is taken ('bundled': the shipped model)")
    ap.add_argument("--out", required=True, help="the new checkpoint (must not exist)")
    args = ap.parse_args(argv)
    try:
        ckpt = load_checkpoint(args.checkpoint)
        donor = load_checkpoint(args.donor)
        grafted = graft_branch(ckpt, donor, args.branch, where=args.donor)
        save_checkpoint(args.out, grafted)
    except MitkitError as err:
        print(f"graft_branch: {err}", file=sys.stderr)
        return 2
    print(f"{args.out}: {args.checkpoint} with the {args.branch} branch of {args.donor}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
