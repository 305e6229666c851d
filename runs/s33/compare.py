"""Pooled note precision/recall and per-kind recall of evaluation JSONs in folders, side by side."""
import json, sys
from pathlib import Path
import numpy as np
dirs = sys.argv[1:]
for f in sorted(Path(dirs[0]).glob("eval-*.json")):
    row = [f.stem[5:]]
    for d in dirs:
        p = Path(d) / f.name
        if not p.exists():
            row.append("-"); continue
        mixes = json.loads(p.read_text())["results"][0]["mixes"]
        m = lambda k: np.mean([x[k] for x in mixes])
        kinds = {}
        for x in mixes:
            for k, (a, b) in x.get("recall_by_kind", {}).items():
                kinds.setdefault(k, [0, 0]); kinds[k][0] += a; kinds[k][1] += b
        rk = "/".join(f"{kinds[k][0]/kinds[k][1]:.3f}" if k in kinds else "-" for k in ("repeated", "short", "other"))
        row.append(f"F1 {m('note_f1'):.3f} P {m('note_precision'):.3f} R {m('note_recall'):.3f} sep {m('separation_f1'):.3f} rk {rk}")
    print(" | ".join(row))
