"""Weight soup: the bundled model's note-finding (amt) branch moved a fraction t of the way to the rooms
fine-tune's (both share the bundled init), everything else the bundled model's (thresholds included)."""
import sys

import torch

from mitkit.checkpoint import load_checkpoint, save_checkpoint

t, out = float(sys.argv[1]), sys.argv[2]
src = sys.argv[3] if len(sys.argv) > 3 else "runs/s35/rooms3900-tuned.pt"
b, r = load_checkpoint(), load_checkpoint(src)
model = {}
for k, v in b["model"].items():
    w = r["model"][k]
    if k.startswith("amt") and v.is_floating_point():
        model[k] = (1 - t) * v + t * w
    else:
        model[k] = v if not k.startswith("amt") else w  # integer counters (BatchNorm's num_batches) of one side
print("amt keys", sum(k.startswith("amt") for k in model), "of", len(model))
save_checkpoint(out, {**{k: v for k, v in b.items() if k not in ("format", "format_version")}, "model": model},
                overwrite=True)
