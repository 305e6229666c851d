"""Training mixtures made on the fly from a rendered stem dataset (``mitkit synth``).

:class:`StemBank` loads the stems of one split into memory; :class:`MixtureDataset` draws 1 … K stems
of different instruments per item, crops a clip, augments it and returns audio with per-instrument
frame and onset rolls. Item ``i`` depends only on ``(seed, i)``, so a resumed run sees the same data.

Notebook: 02_training
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from mitkit.constants import HOP_LENGTH, N_PITCHES, SAMPLE_RATE, SPLITS
from mitkit.errors import MitkitError, warn
from mitkit.notes import merge_tracks, n_frames_for, note_rolls, rolls_to_notes
from mitkit.synth import augment
from mitkit.synth.datasets import load_manifest


class StemBank:
    """Every stem of one split, in memory (float32), with its piano rolls.

    Parameters
    ----------
    root : str or Path, or a list of them
        Dataset folder (see :func:`load_manifest`), or several (a general dataset and a supplement such as
        ``mitkit synth --recipe chamber``): their pieces pooled, each drawn in proportion to its length.
    split : str
        ``"train"``, ``"validation"`` or ``"test"``.
    sources : iterable of str or None
        Keep only these sources (``"chorale"``, ``"score"``, ``"random"``).
    max_pieces : int or None
        Load at most this many pieces (in manifest order), for quick experiments.
    progress : bool
        Show a tqdm bar while decoding.

    Attributes
    ----------
    pieces : list of dict
        Per piece: ``id``, ``audio`` float32 ``(K, n_samples)``, ``frames`` and ``onsets`` uint8
        ``(K, 84, T)``, ``classes`` and ``instruments`` (K names each), ``programs``, ``notes`` (K arrays
        ``(N, 4)``).

    Notebook: 02_training
    """

    def __init__(self, root, split: str, *, sources=None, max_pieces: int | None = None, progress: bool = True):
        import soundfile as sf
        from tqdm.auto import tqdm

        if split not in SPLITS:
            raise MitkitError(f"split={split!r} must be one of {SPLITS}")
        self.roots = [Path(r) for r in ([root] if isinstance(root, (str, Path)) else root)]
        if not self.roots:
            raise MitkitError("root must name at least one dataset folder")
        entries = [(r, p) for r in self.roots for p in load_manifest(r)["pieces"]
                   if p["split"] == split and (sources is None or p["source"] in sources)]
        entries = entries[:max_pieces] if max_pieces is not None else entries
        if not entries:
            warn(f"StemBank: no pieces of split={split!r} in {', '.join(map(str, self.roots))}")
        self.split = split
        self.pieces = []
        for r, e in tqdm(entries, desc=f"load {split}", disable=not progress):
            audio = [sf.read(str(r / s["file"]), dtype="float32")[0] for s in e["stems"]]
            n = min(len(a) for a in audio)
            audio = np.stack([a[:n] for a in audio])  # (K, n_samples)
            T = n_frames_for(n)
            notes = [np.asarray(s["notes"], np.float64).reshape(-1, 4) for s in e["stems"]]
            rolls = [note_rolls(x, T) for x in notes]
            self.pieces.append({
                "id": e["id"], "audio": audio,
                "frames": np.stack([r[0] for r in rolls]).astype(np.uint8),  # (K, 84, T)
                "onsets": np.stack([r[1] for r in rolls]).astype(np.uint8),
                "classes": [s["class"] for s in e["stems"]], "programs": [s["program"] for s in e["stems"]],
                "instruments": [s.get("instrument", s["class"]) for s in e["stems"]],
                "notes": notes,
            })

    def __len__(self) -> int:
        return len(self.pieces)

    @property
    def seconds(self) -> float:
        """Seconds of stem audio held."""
        return sum(p["audio"].size for p in self.pieces) / SAMPLE_RATE


class MixtureDataset:
    """Mixtures of ``min_instruments``–``max_instruments`` stems of one piece, drawn on the fly (map-style).

    Item ``i`` is a deterministic function of ``(seed, i)``. Change ``seed`` per epoch for fresh mixes.

    Parameters
    ----------
    bank : StemBank
    clip_frames : int
        T, frames per example (900 ≈ 10.45 s); audio has ``T * HOP_LENGTH`` samples.
    max_instruments : int
        Largest number of stems mixed; the label tensors always have this many slices.
    min_instruments : int, default 1
        Fewest stems mixed where the piece has them (a piece with fewer gives all of its stems). 2 suits a
        run that trains the timbre branch alone: its contrastive loss learns nothing from a one-stem clip.
    seed : int
    length : int
        Number of items per epoch.
    gain_range : (float, float)
        Uniform per-stem mix gain.
    augment : bool
        Per-stem EQ (probability ``stem_eq_prob``) and mixture EQ, compression, codec and noise
        (:func:`mitkit.synth.augment.augment_mixture`).
    stem_eq_prob : float

    Returns (per item)
    ------------------
    dict with ``audio`` float32 ``(T * HOP_LENGTH,)``, ``frames`` and ``onsets`` float32
    ``(max_instruments, 84, T)`` (zeros for absent instruments), ``n_instruments`` int, ``piece`` str
    (piece id), ``stems`` int64 ``(max_instruments,)`` (stem index in the piece per slot, -1 when absent)
    and ``start_frame`` int (first frame of the clip in the piece).

    Examples
    --------
    >>> bank = StemBank("data/synth-v1", "validation", max_pieces=4)  # doctest: +SKIP
    >>> ds = MixtureDataset(bank, augment=False)  # doctest: +SKIP
    >>> item = ds[0]  # doctest: +SKIP
    >>> plot_mixture_rolls(item["audio"], item["frames"][:item["n_instruments"]],
    ...                    names=ds.instrument_names(item))  # doctest: +SKIP

    Notebook: 02_training
    """

    def __init__(self, bank: StemBank, *, clip_frames: int = 900, max_instruments: int = 4, seed: int = 0,
                 length: int = 10000, gain_range=(0.8, 1.2), augment: bool = True, stem_eq_prob: float = 0.3,
                 min_instruments: int = 1):
        if clip_frames < 1:
            raise MitkitError(f"clip_frames={clip_frames} must be >= 1")
        if max_instruments < 1:
            raise MitkitError(f"max_instruments={max_instruments} must be >= 1")
        if not 1 <= min_instruments <= max_instruments:
            raise MitkitError(f"min_instruments={min_instruments} must be in 1..max_instruments ({max_instruments})")
        if not len(bank):
            where = f" of split {bank.split!r} in {', '.join(map(str, bank.roots))}" if isinstance(bank, StemBank) else ""
            raise MitkitError(f"no pieces{where} to draw mixtures from: a folder's pieces are dealt to the train, "
                              "validation and test splits by piece, so a small folder can leave one empty; "
                              "synthesize more hours (mitkit synth --hours)")
        self.bank, self.clip_frames, self.max_instruments = bank, int(clip_frames), int(max_instruments)
        self.min_instruments = int(min_instruments)
        self.seed, self.length, self.gain_range = int(seed), int(length), tuple(gain_range)
        self.augment, self.stem_eq_prob = bool(augment), float(stem_eq_prob)
        w = np.array([p["audio"].shape[1] for p in bank.pieces], float)
        self._p = w / w.sum()  # pieces drawn in proportion to their length

    def __len__(self) -> int:
        return self.length

    def instrument_names(self, item: dict) -> list[str]:
        """Instrument names of an item's slots (``n_instruments`` of them), e.g. for a plot legend."""
        piece = next(p for p in self.bank.pieces if p["id"] == item["piece"])
        return [piece["instruments"][int(k)] for k in item["stems"][:item["n_instruments"]]]

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.length:
            raise IndexError(i)
        rng = np.random.default_rng([self.seed, int(i)])
        piece = self.bank.pieces[int(rng.choice(len(self._p), p=self._p))]
        K = piece["audio"].shape[0]
        # every stem is one player: two of one class (a quartet's violins) are two instruments to separate
        avail = [int(k) for k in rng.permutation(K)]
        most = min(self.max_instruments, len(avail))
        n = int(rng.integers(min(self.min_instruments, most), most + 1))
        chosen = avail[:n]
        T, L = self.clip_frames, self.clip_frames * HOP_LENGTH
        T_piece = piece["frames"].shape[2]
        start = 0
        for _ in range(4):  # avoid clips where the chosen stems are silent
            start = int(rng.integers(0, max(T_piece - T, 0) + 1))
            if piece["frames"][chosen, :, start:start + T].any():
                break
        audio = np.zeros(L, np.float32)
        frames = np.zeros((self.max_instruments, N_PITCHES, T), np.float32)
        onsets = np.zeros_like(frames)
        s0 = start * HOP_LENGTH
        for slot, k in enumerate(chosen):
            x = piece["audio"][k, s0:s0 + L]
            if self.augment and rng.random() < self.stem_eq_prob:
                x = augment.apply_eq(x, augment.random_eq(len(x), rng, max_db=6.0))
            audio[:len(x)] += float(rng.uniform(*self.gain_range)) * x
            fr = piece["frames"][k, :, start:start + T]
            frames[slot, :, :fr.shape[1]] = fr
            onsets[slot, :, :fr.shape[1]] = piece["onsets"][k, :, start:start + T]
        if self.augment:
            audio = augment.augment_mixture(audio, rng)
        stems = np.full(self.max_instruments, -1, np.int64)
        stems[:n] = chosen
        return {"audio": audio.astype(np.float32), "frames": frames, "onsets": onsets, "n_instruments": n,
                "piece": piece["id"], "stems": stems, "start_frame": start}


def mixture_notes(item) -> np.ndarray:
    """All instruments' notes of a :class:`MixtureDataset` item, pooled: ``(N, 4)`` seconds
    ``[onset_s, offset_s, pitch, 100]`` read back from its rolls (:func:`mitkit.notes.rolls_to_notes`;
    a note already sounding in the clip's first frame starts at 0 s).

    Notebook: 02_training
    """
    tracks = [rolls_to_notes(f, o) for f, o in zip(item["frames"], item["onsets"]) if np.asarray(f).any()]
    return merge_tracks(tracks) if tracks else np.zeros((0, 4))
