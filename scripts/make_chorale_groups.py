"""Write mitkit/assets/chorale_groups.json: the split group (tune) of every music21 Bach chorale.

Finding the test or validation chorales needs every chorale's group, and parsing all 371 scores takes
about a minute; the table makes that instant. Rerun after a music21 upgrade (tests compare a sample of
the table with fresh parses).

    python scripts/make_chorale_groups.py
"""
import json

import music21

from mitkit.assets import _asset
from mitkit.synth import scores
from mitkit.synth.splits import CHORALE_GROUPS_FILE, parse_chorale_group

groups = {ref: parse_chorale_group(ref) for ref in dict.fromkeys(scores.chorale_names())}
path = _asset(CHORALE_GROUPS_FILE)
path.write_text(json.dumps({"music21": music21.__version__, "groups": groups}, indent=0, sort_keys=True) + "\n")
print(f"{len(groups)} chorales -> {path}")
