"""Train / validation / test splits by piece group, so that no tune is in two splits.

Chorales are grouped by melody (``mitkit/assets/chorale_groups.json``, written by
``scripts/make_chorale_groups.py``) and other scores by work; :func:`split_of` hashes a group key.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache

import numpy as np

from mitkit.constants import SPLITS
from mitkit.synth import scores

SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # train, validation, test, by piece group


def split_of(key: str, fractions=SPLIT_FRACTIONS) -> str:
    """Deterministic split of a piece group: ``"train"``, ``"validation"`` or ``"test"``.

    The first 8 bytes of SHA-1(key) as a fraction in [0, 1) are compared with the cumulative fractions.
    """
    u = int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") / 2.0 ** 64
    edges = np.cumsum(fractions)
    return SPLITS[min(int(np.searchsorted(edges, u, side="right")), len(SPLITS) - 1)]


CHORALE_GROUPS_FILE = "chorale_groups.json"  # in mitkit/assets: written by scripts/make_chorale_groups.py


@lru_cache(maxsize=1)
def _stored_chorale_groups() -> dict:
    """The split group of every corpus chorale, computed once (parsing all 371 takes ≈ 55 s)."""
    from mitkit.assets import _asset
    path = _asset(CHORALE_GROUPS_FILE)
    return json.loads(path.read_text())["groups"] if path.exists() else {}


def parse_chorale_group(ref: str) -> str:
    """Split group of a chorale from its score: ``"tune-<hash of its soprano's first intervals>"``."""
    qparts = scores.score_quarter_notes(scores.load_score(ref), vocal_only=True)
    return "tune-" + scores.melody_key([q for _, q, _ in qparts])


@lru_cache(maxsize=None)
def chorale_group(ref: str) -> str:
    """Split group of a chorale (:func:`parse_chorale_group`), from the stored table when it lists ``ref``."""
    return _stored_chorale_groups().get(ref) or parse_chorale_group(ref)


def score_group(ref: str) -> str:
    """Split group of a corpus work: its path without a trailing ``movementN`` (a quartet is one group)."""
    stem = ref.rsplit(".", 1)[0]
    parts = stem.split("/")
    if len(parts) > 2 and parts[-1].lower().startswith("movement"):
        parts = parts[:-1]
    return "score-" + "/".join(parts)


def split_chorales(split: str = "test") -> list[str]:
    """Corpus names of the chorales whose tune falls in ``split`` (sorted)."""
    return sorted(r for r in scores.chorale_names() if split_of(chorale_group(r)) == split)


def test_chorales() -> list[str]:
    """Corpus names of the chorales whose tune falls in the test split (sorted)."""
    return split_chorales("test")
