"""Count right and separation F1 with the counted K, from `mitkit evaluate --count auto` JSONs in folders."""
import json
import sys
from pathlib import Path

import numpy as np

for f in sorted(Path(sys.argv[1]).glob("auto-*.json")):
    row = [f.stem[5:]]
    for d in sys.argv[1:]:
        p = Path(d) / f.name
        if not p.exists():
            row.append("-")
            continue
        mixes = json.loads(p.read_text())["results"][0]["mixes"]
        right = sum(m["n_tracks"] == m["n_parts"] for m in mixes)
        row.append(f"right {right}/{len(mixes)} sep {np.mean([m['separation_f1'] for m in mixes]):.4f} "
                   f"F1 {np.mean([m['note_f1'] for m in mixes]):.4f}")
    print(" | ".join(row))
