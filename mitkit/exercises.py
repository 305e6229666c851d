"""Solutions to the exercises of the notebook series, and the small helpers the notebooks' studies call.

One section per notebook, in series order; each notebook's exercise cell shows how to call its
solutions. Everything here is plain and cheap, meant to be read next to the notebook it belongs to.
Nothing here is needed to transcribe audio.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np
import torch
from tqdm.auto import tqdm

from . import constants as C
from .errors import MitkitError

# =====================================================================================================
# 01_cqt_and_energynorm
# =====================================================================================================

#: Partial amplitudes of :func:`harmonic_tone` (a sawtooth-like 1/h roll-off over 7 partials).
TONE_AMPLITUDES = tuple(1.0 / h for h in range(1, 8))


def harmonic_tone(midi: float, *, seconds: float = 1.0, amplitudes=TONE_AMPLITUDES, peak: float = 0.5,
                  sr: int = C.SAMPLE_RATE) -> np.ndarray:
    """A steady harmonic tone ``x(t) = Σ_h a_h sin(2π h f0 t)`` with 10 ms fades, peak-normalised.

    Parameters
    ----------
    midi : pitch as a (possibly fractional) MIDI number; ``f0 = midi_to_hz(midi)``.
    seconds : duration.
    amplitudes : ``a_1, a_2, …`` of the partials (``a_1`` is the fundamental; 0 removes a partial).
        Partials at or above ``sr / 2`` are left out.
    peak : largest absolute sample value.

    Returns
    -------
    np.ndarray, float32, shape ``(round(seconds * sr),)``

    Notebook: 01_cqt_and_energynorm
    """
    if seconds <= 0:
        raise MitkitError(f"seconds={seconds} must be > 0")
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    f0 = C.midi_to_hz(midi)
    x = np.zeros(n)
    for h, a in enumerate(amplitudes, start=1):
        if a and h * f0 < sr / 2:
            x += a * np.sin(2 * np.pi * h * f0 * t)
    fade = min(int(0.01 * sr), n // 2)
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        x[:fade] *= ramp
        x[n - fade:] *= ramp[::-1]
    top = np.max(np.abs(x))
    return (x * (peak / top if top > 0 else 0.0)).astype(np.float32)


def harmonic_peaks(L_frame, midi: int, *, search: int = 2) -> dict:
    """Where the partials of a note really are in one CQT frame.

    For each harmonic h ≥ 1 of :data:`~mitkit.constants.HARMONICS`, the bin of the largest value within
    ``±search`` bins of the expected bin ``pitch_to_bin(midi) + round(36·log2 h)``, returned as an offset
    from the note's own bin.

    Parameters
    ----------
    L_frame : ``(288,)`` one frame of a (log-)power CQT.
    midi : the note's MIDI pitch.

    Returns
    -------
    dict of harmonic → offset in bins (int).

    Notebook: 01_cqt_and_energynorm
    """
    L_frame = np.asarray(L_frame)
    b0 = C.pitch_to_bin(midi)
    out = {}
    for h, s in zip(C.HARMONICS, C.HARMONIC_SHIFTS):
        if h < 1:
            continue
        lo, hi = max(b0 + s - search, 0), min(b0 + s + search + 1, len(L_frame))
        if lo >= hi:
            continue
        out[h] = int(lo + np.argmax(L_frame[lo:hi]) - b0)
    return out


def energynorm_gain_change(audio, gains=(0.01, 0.1, 10.0), *, margin: float = 100.0) -> dict:
    """Exercise 01.1: how much does the EnergyNorm output ``log P − log σ`` move when the audio is scaled?

    Scaling the waveform by g scales P by g² and σ by g², so ``log P − log σ`` is unchanged, *except*
    where ``P`` is so small that the ``ε = 1.01e-8`` inside the log dominates (silence, faint bins).

    Parameters
    ----------
    audio : mono waveform at 22,050 Hz.
    gains : factors to try.
    margin : a bin counts as "above ε" for a gain g when both ``P`` and ``g²P`` are at least ``margin·ε``.

    Returns
    -------
    dict of gain → {"all": max |Δ| over all bins, "above_eps": max |Δ| over the bins above ε,
    "fraction_above_eps": the share of bins above ε}.

    Notebook: 01_cqt_and_energynorm
    """
    from .frontend import CQT, EnergyNorm

    cqt, norm = CQT(), EnergyNorm()
    x = torch.as_tensor(np.asarray(audio, np.float32))
    with torch.no_grad():
        X = cqt(x)
        ref = norm.normalise(X)[0].numpy()
        P = EnergyNorm.power(X)[0].numpy()
        out = {}
        for g in gains:
            d = np.abs(norm.normalise(cqt(x * float(g)))[0].numpy() - ref)
            above = np.minimum(P, P * float(g) ** 2) >= margin * EnergyNorm.EPS
            out[g] = {"all": float(d.max()), "above_eps": float(d[above].max()) if above.any() else 0.0,
                      "fraction_above_eps": float(above.mean())}
    return out


def stacked_pitch(audio, *, sr: int = C.SAMPLE_RATE, silence_db: float = 40.0) -> np.ndarray:
    """Exercise 01.2: a harmonic-sum pitch estimate from the stacked spectrum, one per frame.

    Sum the EnergyNorm log power of the stacked channels h = 1 … 7 (all harmonics of a candidate pitch
    at once) and take the best stacked bin: ``MIDI_MIN + (bin − 1) / 3``. The h = 0.5 channel is left
    out: it belongs to the octave *below*. Only candidates whose 7th harmonic is still inside the CQT
    are considered (MIDI ≤ 86): above that the stack is zero-padded, and a padded 0 would beat every
    real (negative) log value. Frames more than ``silence_db`` dB below the loudest frame give NaN.

    Returns
    -------
    np.ndarray, float, shape ``(T,)``: MIDI pitch per frame (fractional, in thirds of a semitone).

    Notebook: 01_cqt_and_energynorm
    """
    from .frontend import CQT, EnergyNorm, HarmonicStacking

    with torch.no_grad():
        X = CQT(sr=sr)(torch.as_tensor(np.asarray(audio, np.float32)))
        S = HarmonicStacking()(EnergyNorm().normalise(X))[0].numpy()  # (8, 252, T)
        E = EnergyNorm.power(X)[0].sum(0).numpy()  # (T,)
    n_valid = C.N_BINS - max(C.HARMONIC_SHIFTS)  # stacked bins whose every harmonic lies inside the CQT
    score = S[[i for i, h in enumerate(C.HARMONICS) if h >= 1], :n_valid].sum(0)  # (n_valid, T)
    midi = C.MIDI_MIN + (np.argmax(score, axis=0) - 1) / C.BINS_PER_SEMITONE
    quiet = E < E.max() * 10 ** (-silence_db / 10)
    return np.where(quiet, np.nan, midi)


def harmonic_shift_errors(harmonics=(0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), *,
                          bins_per_octave: int = C.BINS_PER_OCTAVE) -> dict:
    """Exercise 01.3: the shift of each harmonic in bins, exact and rounded, and the rounding error in cents.

    Returns
    -------
    dict with arrays ``harmonic``, ``exact`` (``bpo·log2 h``), ``shift`` (rounded), ``error_cents``
    (``(shift − exact)·1200 / bpo``; positive: the stacked bin is sharp of the true partial).

    Notebook: 01_cqt_and_energynorm
    """
    if bins_per_octave < 1:
        raise MitkitError(f"bins_per_octave={bins_per_octave} must be >= 1")
    h = np.asarray(harmonics, float)
    if np.any(h <= 0):
        raise MitkitError(f"harmonics={tuple(harmonics)} must all be > 0")
    exact = bins_per_octave * np.log2(h)
    shift = np.round(exact).astype(int)
    return {"harmonic": h, "exact": exact, "shift": shift, "error_cents": (shift - exact) * 1200 / bins_per_octave}


# =====================================================================================================
# 02_training
# =====================================================================================================

def focal_optimum(prior: float, alpha: float, gamma: float = 1.0, *, n: int = 200_001) -> float:
    """Exercise 02.1: the probability p* that minimises the expected focal loss of a bin that is a note
    with probability ``prior`` (π): ``π·α(1−p)^γ(−log p) + (1−π)(1−α)p^γ(−log(1−p))``.

    For γ = 0 (α-weighted cross-entropy) the answer is ``p* = απ / (απ + (1−α)(1−π))``; this function
    finds it numerically on a grid of ``n`` points, for any γ.

    Notebook: 02_training
    """
    for name, v in (("prior", prior), ("alpha", alpha)):
        if not 0 < v < 1:
            raise MitkitError(f"{name}={v} must be in (0, 1)")
    if gamma < 0:
        raise MitkitError(f"gamma={gamma} must be >= 0")
    p = np.linspace(0, 1, n)[1:-1]
    loss = -prior * alpha * (1 - p) ** gamma * np.log(p) - (1 - prior) * (1 - alpha) * p ** gamma * np.log1p(-p)
    return float(p[np.argmin(loss)])


def reference_notes(item) -> np.ndarray:
    """All instruments' notes of a :class:`~mitkit.data.MixtureDataset` item, pooled, ``(N, 4)`` seconds
    ``[onset_s, offset_s, pitch, 100]`` (read back with :func:`mitkit.data.rolls_to_notes`).

    A note already sounding in the clip's first frame starts at 0 s (the clip cut its onset off).

    Notebook: 02_training
    """
    from .data import rolls_to_notes
    from .evaluate import merge_tracks

    tracks = []
    for f, o in zip(item["frames"], item["onsets"]):
        f, o = np.asarray(f), np.asarray(o).copy()
        if not f.any():
            continue
        o[:, 0] = np.maximum(o[:, 0], f[:, 0])
        tracks.append(rolls_to_notes(f, o))
    return merge_tracks(tracks) if tracks else np.zeros((0, 4))


def _score(ref, Y_F, Y_O, thresholds) -> tuple[dict, np.ndarray]:
    from .evaluate import transcription_metrics
    from .notes import create_notes, notes_to_seconds

    est = notes_to_seconds(create_notes(Y_F, Y_O, **(thresholds or {})))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an empty estimate or reference scores 0 with a warning
        return transcription_metrics(ref, est), est


def ghost_notes(ref, est) -> int:
    """Estimated notes that overlap no reference note of the same pitch: notes where nothing sounds.

    ``ref`` and ``est`` are note arrays ``(N, 4)`` [onset_s, offset_s, pitch, …]. A note split in two, or
    one with a late onset, overlaps its reference note and is *not* a ghost (it still lowers note precision).

    Notebook: 02_training
    """
    ref, est = np.asarray(ref, float).reshape(-1, 4), np.asarray(est, float).reshape(-1, 4)
    count = 0
    for on, off, pitch in est[:, :3]:
        same = ref[np.round(ref[:, 2]) == round(pitch)]
        count += not np.any((same[:, 0] < off) & (same[:, 1] > on))
    return int(count)


def transcription_report(model, dataset, *, n_items: int = 4, thresholds: dict | None = None) -> dict:
    """Frame and note precision/recall/F1 (means over the first ``n_items`` mixtures of ``dataset``) and
    note counts summed over them: ``n_ref``, ``n_est`` and ``ghost_notes`` (:func:`ghost_notes`).
    A longer version of :func:`mitkit.train.mixture_scores`.

    Notebook: 02_training
    """
    from .inference import predict

    model.eval()
    rows, n_ref, n_est, ghosts = [], 0, 0, 0
    for i in range(min(n_items, len(dataset))):
        item = dataset[i]
        ref = reference_notes(item)
        post = predict(model, item["audio"], with_timbre=False)
        m, est = _score(ref, post.frames, post.onsets, thresholds)
        rows.append(m)
        n_ref, n_est, ghosts = n_ref + len(ref), n_est + len(est), ghosts + ghost_notes(ref, est)
    keys = ("frame_precision", "frame_recall", "frame_f1", "note_precision", "note_recall", "note_f1")
    out = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    return {**out, "n_ref": n_ref, "n_est": n_est, "ghost_notes": ghosts}


def finetune_amt(model, dataset, *, frame_alpha: float, onset_alpha: float | None = None, steps: int = 20,
                 batch_size: int = 4, lr: float = 1e-3, first_item: int = 0, progress: bool = True):
    """A copy of ``model`` whose AMT branch is trained for a few more steps with other focal-loss weights.

    The whole training step, written out: focal loss on Y_F (weight ``frame_alpha``) plus focal loss on
    Y_O (weight ``onset_alpha``, default :data:`mitkit.losses.ONSET_ALPHA`), AdamW, gradient clipping.
    BatchNorm statistics stay frozen (the layers are kept in eval mode), so that only the loss weight
    differs between runs started from the same model on the same batches.

    Parameters
    ----------
    model : a :class:`~mitkit.model.MitNet`; it is not modified.
    dataset : a :class:`~mitkit.data.MixtureDataset`; items ``first_item …`` are used, in order.

    Returns
    -------
    (model_copy in eval mode, list of the total loss per step)

    Notebook: 02_training
    """
    from .losses import ONSET_ALPHA, focal_loss

    onset_alpha = ONSET_ALPHA if onset_alpha is None else onset_alpha
    if steps < 1 or batch_size < 1:
        raise MitkitError(f"steps={steps} and batch_size={batch_size} must be >= 1")
    net = copy.deepcopy(model)
    net.train()
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()  # frozen statistics
    params = [p for m in (net.amt, net.amt_norm) for p in m.parameters()]
    for p in net.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=lr)
    items = torch.utils.data.Subset(dataset, range(first_item, first_item + steps * batch_size))
    loader = torch.utils.data.DataLoader(items, batch_size=batch_size, num_workers=0)
    losses = []
    for batch in tqdm(loader, total=steps, disable=not progress, desc=f"α={frame_alpha:g}", leave=False):
        out = net(batch["audio"], with_timbre=False)
        T = batch["frames"].shape[-1]
        Y_F_target = batch["frames"].amax(1)  # (B, 84, T): any instrument sounds
        Y_O_target = batch["onsets"].amax(1)
        loss = (focal_loss(out["frame_logit"][..., :T], Y_F_target, alpha=frame_alpha)
                + focal_loss(out["onset_logit"][..., :T], Y_O_target, alpha=onset_alpha))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        losses.append(float(loss.detach()))
    return net.eval(), losses


def alpha_study(model, train_set, val_set, alphas, *, steps: int = 20, batch_size: int = 4, lr: float = 1e-3,
                n_items: int = 4, show_item: int = 0, thresholds: dict | None = None,
                progress: bool = True) -> dict:
    """The focal-loss weight experiment: from one model, fine-tune a copy per frame weight α on the same
    batches (:func:`finetune_amt`), then measure each on the same validation mixtures.

    Returns
    -------
    dict of α → {"Y_F": posteriorgram ``(84, T)`` of ``val_set[show_item]``, "report":
    :func:`transcription_report`, "losses": per-step training loss}.

    Notebook: 02_training
    """
    from .inference import predict

    audio = val_set[show_item]["audio"]
    results = {}
    for a in tqdm(list(alphas), disable=not progress, desc="α study"):
        net, losses = finetune_amt(model, train_set, frame_alpha=float(a), steps=steps, batch_size=batch_size,
                                   lr=lr, progress=progress)
        results[a] = {"Y_F": predict(net, audio, with_timbre=False).frames,
                      "report": transcription_report(net, val_set, n_items=n_items, thresholds=thresholds),
                      "losses": losses}
    return results


def threshold_sweep(model, dataset, thresholds=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7), *, n_items: int = 4,
                    onset_threshold: float = 0.5) -> dict:
    """Exercise 02.2: mean frame and note F1 over the first ``n_items`` mixtures for each frame threshold.

    The network runs once per mixture; only note creation is repeated per threshold.

    Returns
    -------
    dict of frame threshold → {"frame_f1", "note_f1"}.

    Notebook: 02_training
    """
    from .inference import predict

    model.eval()
    posts = []
    for i in range(min(n_items, len(dataset))):
        item = dataset[i]
        post = predict(model, item["audio"], with_timbre=False)
        posts.append((reference_notes(item), post.frames, post.onsets))
    out = {}
    for th in thresholds:
        rows = [_score(ref, Y_F, Y_O, {"frame_threshold": th, "onset_threshold": onset_threshold})[0]
                for ref, Y_F, Y_O in posts]
        out[th] = {k: float(np.mean([r[k] for r in rows])) for k in ("frame_f1", "note_f1")}
    return out


def gain_sensitivity(model, audio, gains=(0.1, 10.0)) -> dict:
    """Exercise 02.3: how far the frame posteriorgram Y_F moves when the input is scaled by each gain.

    EnergyNorm divides by the clip's own σ, so only the bins near the ``ε`` floor (faint partials, reverb
    tails, silence) look different to the network after scaling.

    Returns
    -------
    dict of gain → {"mean": mean |ΔY_F|, "max": max |ΔY_F|, "changed": share of bins whose side of 0.5
    changed}.

    Notebook: 02_training
    """
    from .inference import predict

    model.eval()
    x = np.asarray(audio, np.float32)
    ref = predict(model, x, with_timbre=False).frames
    out = {}
    for g in gains:
        Y = predict(model, x * float(g), with_timbre=False).frames
        d = np.abs(Y - ref)
        out[g] = {"mean": float(d.mean()), "max": float(d.max()), "changed": float(np.mean((Y > 0.5) != (ref > 0.5)))}
    return out


# =====================================================================================================
# 03_embeddings_and_clustering
# =====================================================================================================

def part_track_confusion(part_labels, track_labels, *, n_parts: int | None = None,
                         n_tracks: int | None = None) -> np.ndarray:
    """How the notes of each true instrument are spread over the estimated tracks.

    Parameters
    ----------
    part_labels : int array ``(N,)``: true part of each note (:func:`mitkit.plots.reference_labels`),
        -1 for a note that matches no reference note.
    track_labels : int array ``(N,)``: estimated track of each note (e.g. from
        :func:`mitkit.clustering.cluster_notes`).
    n_parts, n_tracks : sizes of the matrix (default: the largest label + 1).

    Returns
    -------
    np.ndarray, int64, shape ``(n_parts + 1, n_tracks)``: entry ``[p, k]`` counts the notes of part p in
    track k; the last row counts the unmatched notes.

    Examples
    --------
    >>> part_track_confusion([0, 0, 1, -1], [0, 1, 1, 1]).tolist()
    [[1, 1], [0, 1], [0, 1]]

    Notebook: 03_embeddings_and_clustering
    """
    parts = np.asarray(part_labels, dtype=np.int64)
    tracks = np.asarray(track_labels, dtype=np.int64)
    if parts.shape != tracks.shape or parts.ndim != 1:
        raise MitkitError(f"part_labels.shape={parts.shape} and track_labels.shape={tracks.shape} must be "
                          "equal (N,)")
    if tracks.size and tracks.min() < 0:
        raise MitkitError(f"track_labels min={tracks.min()} must be >= 0 (every note is in a track)")
    n_parts = (int(parts.max()) + 1 if parts.size else 0) if n_parts is None else int(n_parts)
    n_tracks = (int(tracks.max()) + 1 if tracks.size else 0) if n_tracks is None else int(n_tracks)
    if parts.size and (parts.max() >= n_parts or tracks.max() >= n_tracks):
        raise MitkitError(f"labels must be below n_parts={n_parts} and n_tracks={n_tracks}")
    out = np.zeros((n_parts + 1, n_tracks), dtype=np.int64)
    np.add.at(out, (np.where(parts < 0, n_parts, parts), tracks), 1)
    return out


def temperature_study(notes, E, parts, temperatures=(0.1, 0.2, 0.5, 1.0, 2.0), *,
                      n_clusters: int | None = None, random_state: int = 0) -> dict:
    """Separation F1 of note-level clustering at several affinity temperatures ``A = exp(cos / τ)``.

    Parameters
    ----------
    notes : ``(N, 4)`` estimated notes in seconds, rows in the order of ``E``.
    E : ``(N, D)`` note embeddings.
    parts : reference parts, list of ``(M_k, 4)`` arrays.
    temperatures : the values of τ to try (each in [0.01, 100]).
    n_clusters : K (default: the number of parts).

    Returns
    -------
    dict of τ → separation F1 (:func:`mitkit.evaluate.separation_metrics`).

    Notebook: 03_embeddings_and_clustering
    """
    from .clustering import cluster_notes
    from .evaluate import as_note_array, separation_metrics
    notes = as_note_array(notes)
    E = np.asarray(E)
    if len(notes) != len(E):
        raise MitkitError(f"len(notes)={len(notes)} must equal len(E)={len(E)}")
    K = len(parts) if n_clusters is None else n_clusters
    out = {}
    for tau in temperatures:
        labels = cluster_notes(E, K, pitches=notes[:, 2], temperature=tau, random_state=random_state)
        tracks = [notes[labels == k] for k in range(int(labels.max()) + 1)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            out[tau] = separation_metrics(parts, tracks)["separation_f1"]
    return out


def auto_k_vs_excerpt(notes, E, seconds=(5, 10, 20, 30), *, max_clusters: int = C.MAX_INSTRUMENTS) -> dict:
    """The automatic instrument count from the notes that start in the first ``s`` seconds.

    Parameters
    ----------
    notes : ``(N, 4)`` notes in seconds, rows in the order of ``E``.
    E : ``(N, D)`` note embeddings.
    seconds : excerpt lengths.

    Returns
    -------
    dict of s → (number of notes, estimated K) (:func:`mitkit.clustering.estimate_n_clusters`).

    Notebook: 03_embeddings_and_clustering
    """
    from .clustering import estimate_n_clusters
    from .evaluate import as_note_array
    notes = as_note_array(notes)
    E = np.asarray(E)
    if len(notes) != len(E):
        raise MitkitError(f"len(notes)={len(notes)} must equal len(E)={len(E)}")
    out = {}
    for s in seconds:
        keep = notes[:, 0] < s
        n = int(keep.sum())
        out[s] = (n, estimate_n_clusters(E[keep], max_clusters=max_clusters) if n else 0)
    return out


# =====================================================================================================
# 04_speed_benchmarks
# =====================================================================================================

def fit_time_model(rows, system: str = "mitkit-full") -> dict:
    """Least-squares fit of ``time = fixed + per_second · duration`` to one system's benchmark rows.

    Parameters
    ----------
    rows : ``run_bench(...)["rows"]`` (dicts with ``system``, ``seconds``, ``time``).
    system : which system's rows to fit.

    Returns
    -------
    dict with ``fixed_s`` (seconds per call), ``per_second`` (seconds per second of audio, the
    asymptotic real-time factor) and ``predict`` (a function of the duration in seconds).

    Examples
    --------
    >>> fit = fit_time_model([{"system": "s", "seconds": 10, "time": 1.5},
    ...                       {"system": "s", "seconds": 60, "time": 4.0}], "s")
    >>> round(fit["fixed_s"], 3), round(fit["per_second"], 3), round(fit["predict"](600), 1)
    (1.0, 0.05, 31.0)

    Notebook: 04_speed_benchmarks
    """
    mine = [r for r in rows if r["system"] == system]
    if len({r["seconds"] for r in mine}) < 2:
        raise MitkitError(f"system={system!r} must have rows at two or more lengths to fit a line "
                          f"(found {len(mine)} rows)")
    x = np.array([r["seconds"] for r in mine], dtype=float)
    y = np.array([r["time"] for r in mine], dtype=float)
    per_second, fixed = np.polyfit(x, y, 1)
    return {"fixed_s": float(fixed), "per_second": float(per_second),
            "predict": lambda seconds: float(fixed + per_second * seconds)}


def thread_scaling(audio, model, threads=(1, 2), *, instruments: int = 4, thresholds: dict | None = None,
                   repeats: int = 1) -> dict:
    """Stage timings (:func:`mitkit.bench.stage_timings`) with each number of torch threads.

    Each thread count gets one untimed warm-up call, then ``repeats`` timed calls (the one with the
    smallest total is kept). torch's thread count is restored afterwards.

    Returns
    -------
    dict of thread count → stage-timing dict (seconds per stage, ``total``, ...).

    Notebook: 04_speed_benchmarks
    """
    from .bench import stage_timings
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise MitkitError(f"repeats={repeats!r} must be an integer >= 1")
    before = torch.get_num_threads()
    out = {}
    try:
        for n in threads:
            torch.set_num_threads(int(n))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "fewer notes than instruments" on the short clip
                stage_timings(audio[:C.SAMPLE_RATE], model, instruments=instruments, thresholds=thresholds)
            runs = [stage_timings(audio, model, instruments=instruments, thresholds=thresholds)
                    for _ in range(repeats)]
            out[int(n)] = min(runs, key=lambda r: r["total"])
    finally:
        torch.set_num_threads(before)
    return out


# =====================================================================================================
# 05_transcribe_your_own_audio
# =====================================================================================================

def track_summary(transcription) -> list[dict]:
    """One row per track: ``track`` (1-based), ``notes``, ``lowest`` and ``highest`` (note names),
    ``sounding_s`` (summed note durations) and ``program`` (General MIDI).

    Examples
    --------
    >>> from mitkit.transcribe import Note, Track, Transcription
    >>> t = Transcription(tracks=[Track(0, [Note(0.0, 0.5, 60, 90), Note(0.5, 1.5, 72, 90)], program=40)],
    ...                   duration=2.0)
    >>> track_summary(t)
    [{'track': 1, 'notes': 2, 'lowest': 'C4', 'highest': 'C5', 'sounding_s': 1.5, 'program': 40}]

    Notebook: 05_transcribe_your_own_audio
    """
    import pretty_midi
    rows = []
    for tr in transcription.tracks:
        pitches = [n.pitch for n in tr.notes]
        rows.append({"track": tr.id + 1, "notes": len(tr.notes),
                     "lowest": pretty_midi.note_number_to_name(min(pitches)) if pitches else None,
                     "highest": pretty_midi.note_number_to_name(max(pitches)) if pitches else None,
                     "sounding_s": round(sum(n.offset - n.onset for n in tr.notes), 3), "program": tr.program})
    return rows


def midi_roundtrip_error(transcription, path) -> float:
    """Write ``transcription`` to a MIDI file at ``path`` (replacing it), read it back with pretty_midi
    and return the largest onset or offset difference in seconds between written and read notes.

    Pitches and note counts must survive exactly (a :class:`MitkitError` says so otherwise); times are
    quantised to MIDI ticks (pretty_midi's default 220 ticks per beat at 120 bpm: ≈ 2.3 ms).

    Notebook: 05_transcribe_your_own_audio
    """
    import pretty_midi
    path = transcription.to_midi(path, overwrite=True)
    back = pretty_midi.PrettyMIDI(str(path))
    if len(back.instruments) != len(transcription.tracks):
        raise MitkitError(f"MIDI tracks={len(back.instruments)} must equal the transcription's "
                          f"{len(transcription.tracks)}")
    worst = 0.0
    for tr, inst in zip(transcription.tracks, back.instruments):
        a = sorted((n.onset, n.offset, n.pitch) for n in tr.notes)
        b = sorted((n.start, n.end, n.pitch) for n in inst.notes)
        if len(a) != len(b) or [x[2] for x in a] != [x[2] for x in b]:
            raise MitkitError(f"track {tr.id + 1}: notes must survive the MIDI round trip")
        if a:
            worst = max(worst, float(np.max(np.abs(np.array(a)[:, :2] - np.array(b)[:, :2]))))
    return worst


def transcribe_excerpt(source, start: float, stop: float, **kwargs):
    """Transcribe seconds ``start`` … ``stop`` of a file (or array with ``sr=``) with
    :func:`mitkit.transcribe`; note times are relative to ``start``.

    Notebook: 05_transcribe_your_own_audio
    """
    from .audio import load_audio
    from .transcribe import transcribe
    sr = kwargs.pop("sr", None)
    y = load_audio(source, sr=sr)
    if not 0 <= start < stop:
        raise MitkitError(f"start={start} and stop={stop} must satisfy 0 <= start < stop (seconds)")
    a, b = int(round(start * C.SAMPLE_RATE)), min(int(round(stop * C.SAMPLE_RATE)), len(y))
    if a >= len(y):
        raise MitkitError(f"start={start} must be before the end of the audio ({len(y) / C.SAMPLE_RATE:.2f} s)")
    return transcribe(y[a:b], sr=C.SAMPLE_RATE, **kwargs)
