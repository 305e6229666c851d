"""Synthetic data with FluidSynth and music21: label/audio alignment, mix = sum of stems, determinism,
the synth command (shards, resume), StemBank/MixtureDataset and the chorale benchmark.

Kept fast: one tiny dataset is rendered once per module (a few seconds); rendering tests use short notes.
"""
import json

# FluidSynth, music21 and the FluidR3_GM soundfont are installed by scripts/setup.sh. Without them this
# module must fail (an import error, or the installed-sources test below), never skip silently.
import fluidsynth  # noqa: E402,F401
import music21  # noqa: E402,F401
import numpy as np
import pytest

from mitkit.constants import FRAME_RATE, HOP_LENGTH, MIDI_MIN, N_PITCHES, SAMPLE_RATE, midi_to_hz
from mitkit.errors import MitkitError
from mitkit.notes import n_frames_for, note_rolls
from mitkit.synth import benchmarks, datasets, render, scores
from mitkit.synth import instruments as inst
from mitkit.synth.datasets import SOUNDFONT_WEIGHTS
from mitkit.synth.splits import _stored_chorale_groups, chorale_group, parse_chorale_group, score_group, split_of
from mitkit.training import mixtures, plots


def test_every_allowed_sound_source_is_installed_and_has_a_family():
    import os
    for name in render.SOUNDFONTS:
        assert os.path.isfile(render.soundfont_path(name))
    assert set(render.SOUNDFONT_FAMILIES) == set(render.SOUNDFONTS)
    trained = {render.SOUNDFONT_FAMILIES[f] for f in SOUNDFONT_WEIGHTS}
    assert set(render.SOUNDFONT_FAMILIES.values()) - trained  # a family is held out to measure generalisation
    assert set(SOUNDFONT_WEIGHTS) <= set(render.SOUNDFONTS)


def test_only_allow_listed_sound_sources_load(tmp_path, monkeypatch):
    (tmp_path / "Other.sf2").write_bytes(b"RIFF")  # a soundfont in a searched folder is still not loaded
    monkeypatch.setenv("MITKIT_SOUNDFONT_DIR", str(tmp_path))
    with pytest.raises(MitkitError, match="must be one of"):
        render.soundfont_path("Other")
    with pytest.raises(MitkitError, match="must be one of"):
        render.render_stems([(np.array([[0.0, 0.5, 60, 90]]), render.StemStyle(program=0))], soundfont="Other")


DRY = render.Room(reverb_level=0.0, chorus_nr=0)


def test_chorale_to_parts_in_seconds():
    parts = scores.score_to_parts(scores.load_score("bach/bwv253"), np.random.default_rng(0),
                                  vocal_only=True, bpm_range=(60, 60))
    assert [p.name for p in parts] == list(scores.VOCAL_PARTS)
    for p in parts:
        assert p.notes[:, 0].min() >= 0 and np.all(p.notes[:, 1] > p.notes[:, 0])
    # 40 quarter notes at about 60 bpm (slow drift, fermata holds) last roughly 40-60 s
    end = max(p.notes[:, 1].max() for p in parts)
    assert 35 < end < 70


def test_jobs_and_groups_are_deterministic():
    import itertools

    a = list(itertools.islice(datasets.plan_jobs(5), 30))
    b = list(itertools.islice(datasets.plan_jobs(5), 30))
    assert a == b and len({j.id for j in a}) == 30
    assert {j.source for j in a} == {"chorale", "score", "random"}
    assert a != list(itertools.islice(datasets.plan_jobs(6), 30))
    quartet = score_group("beethoven/opus18no1/movement1.mxl")
    assert quartet == score_group("beethoven/opus18no1/movement3.mxl") == "score-beethoven/opus18no1"
    assert chorale_group("bach/bwv253") == chorale_group("bach/bwv253")


# ---- rendering ---------------------------------------------------------------------------------------

def _salience(x, pitches, n_fft=2048):
    """Harmonic-sum salience (P, T) of a mono signal at frames centred on t * HOP_LENGTH."""
    pad = np.pad(x, (n_fft // 2, n_fft // 2))
    T = len(x) // HOP_LENGTH + 1
    idx = np.arange(T)[:, None] * HOP_LENGTH + np.arange(n_fft)[None]
    S = np.abs(np.fft.rfft(pad[idx] * np.hanning(n_fft), axis=1))  # (T, n_fft/2+1)
    f = np.fft.rfftfreq(n_fft, 1 / SAMPLE_RATE)
    out = np.zeros((len(pitches), T))
    for i, p in enumerate(pitches):
        for h in range(1, 7):  # six harmonics: a weak fundamental (bassoon) is not an octave error
            k = int(np.argmin(np.abs(f - h * midi_to_hz(p))))
            out[i] += 0.9 ** h * S[:, k - 1:k + 2].max(axis=1)
    return out


@pytest.mark.parametrize("program,soundfont", [(40, "FluidR3_GM"), (0, "FluidR3_GM"), (70, "FluidR3_GM"),
                                               (40, "csound_GM"), (73, "TimGM6mb"), (40, "OPL3_FM"),
                                               (0, "OPL3_FM")])  # violin, piano, bassoon, flute
def test_rendered_energy_lands_on_labelled_pitch_and_frames(program, soundfont):
    ins = inst.instrument(program)
    pitches = [p for p in (50, 57, 62, 67, 72, 76, 81) if ins.low <= p <= ins.high][:4]
    notes = np.array([[0.3 + 0.8 * i, 0.9 + 0.8 * i, p, 100] for i, p in enumerate(pitches)])
    style = render.StemStyle(program=program, reverb_send=0)
    x = render.render_stems([(notes, style)], soundfont=soundfont, room=DRY, tail_s=0.5)[0]
    T = n_frames_for(len(x))
    fr, on = note_rolls(notes, T)
    cand = np.arange(min(pitches) - 6, max(pitches) + 7)
    sal = _salience(x, cand)
    for on_s, off_s, p, _ in notes:
        s, e = int(round(on_s * FRAME_RATE)), int(round(off_s * FRAME_RATE))
        assert fr[int(p) - MIDI_MIN, s:e].all() and on[int(p) - MIDI_MIN, s] == 1
        # inside the note, the labelled pitch has the largest harmonic salience
        winner = cand[np.argmax(sal[:, s + 5:e - 3].mean(axis=1))]
        assert winner == p
        # energy rises at the labelled onset frame (within the 2048-sample window's reach, ±5 frames)
        row = sal[list(cand).index(p)]
        assert row[s - 8] < 0.1 * row[s + 5:e - 3].mean()
        first = s - 8 + int(np.argmax(row[s - 8:e] > 0.3 * row[s + 5:e - 3].mean()))
        assert abs(first - s) <= 5


def test_mixing_stems_equals_rendering_the_mix():
    rng = np.random.default_rng(3)
    room = render.random_room(rng)
    room.chorus_nr, room.chorus_level = 3, 2.0  # effects on: they are shared, and linear
    parts = []
    for ins, base in ((inst.instrument(40), 72), (inst.instrument(71), 64), (inst.instrument(0), 48)):
        notes = np.array([[0.1 + 0.4 * i, 0.5 + 0.4 * i, base + i % 3, 90] for i in range(6)])
        style = render.random_style(ins, rng)
        style.chorus_send = 40
        parts.append((notes, style))
    stems = render.render_stems(parts, room=room)
    mix = render.render_mix(parts, room=room)
    assert stems.shape[1] == mix.shape[0]
    snr = 10 * np.log10(np.sum(mix ** 2) / np.sum((stems.sum(0) - mix) ** 2))
    # FluidSynth reuses voice objects across programs in one synthesizer, which perturbs a few onset
    # samples slightly (≈ -50 dB); with one program per synthesizer the sum is exact to float rounding.
    assert snr > 40
    same = [(n, render.StemStyle(program=40, reverb_send=30)) for n, _ in parts[:2]]
    s2 = render.render_stems(same, room=room)
    np.testing.assert_allclose(s2.sum(0), render.render_mix(same, room=room), atol=1e-6)


def test_render_errors():
    with pytest.raises(MitkitError, match="soundfont='Nope' must be one of"):
        render.soundfont_path("Nope")
    with pytest.raises(MitkitError, match="offset must be greater than onset"):
        render.render_stems([(np.array([[1.0, 0.5, 60, 80]]), render.StemStyle(program=0))])
    with pytest.raises(MitkitError, match="velocities in 1..127"):
        render.render_stems([(np.array([[0.0, 0.5, 60, 0]]), render.StemStyle(program=0))])
    with pytest.raises(MitkitError, match="at least one"):
        render.render_stems([])


# ---- the synth command and the datasets --------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny dataset: shard 1 of 2 of seed 11 (about 40 s of stem audio)."""
    root = tmp_path_factory.mktemp("synth")
    man = datasets.synth(root, hours=0.02, seed=11, shard=(1, 2), progress=False)
    return root, man


def test_synth_writes_manifest_and_respects_shards(tiny):
    root, man = tiny
    assert man["format"] == "mitkit-stems" and man["sample_rate"] == SAMPLE_RATE and man["pieces"]
    on_disk = json.loads((root / "manifest.json").read_text())
    assert [p["id"] for p in on_disk["pieces"]] == [p["id"] for p in man["pieces"]]
    for p in man["pieces"]:
        assert int(p["id"].rsplit("-", 1)[1]) % 2 == 1  # shard 1/2 renders odd job indices only
        assert p["split"] == split_of(p["group"])
        classes = [s["class"] for s in p["stems"]]
        doubled = p["ensemble"] is not None and len(set(inst.ENSEMBLES[p["ensemble"]])) < 4
        assert len(set(classes)) == len(classes) or doubled
        assert len({(s["instrument"], s["soundfont"], s["style"]["zone_shift"]) for s in p["stems"]}) == len(classes)
        import soundfile as sf

        lengths = {sf.info(str(root / s["file"])).frames for s in p["stems"]}
        assert lengths == {p["n_samples"]}  # stems of a piece are sample-aligned
        for s in p["stems"]:
            ins = inst.instrument(s["program"])
            pitches = [n[2] for n in s["notes"]]
            assert ins.low <= min(pitches) and max(pitches) <= ins.high
            assert max(n[1] for n in s["notes"]) < p["duration"]


def test_synth_resumes_without_rerendering(tiny):
    root, man = tiny
    stamps = {f: f.stat().st_mtime_ns for f in (root / "audio").iterdir()}
    again = datasets.synth(root, hours=0.02, seed=11, shard=(1, 2), progress=False)
    assert [p["id"] for p in again["pieces"]] == [p["id"] for p in man["pieces"]]
    assert {f: f.stat().st_mtime_ns for f in (root / "audio").iterdir()} == stamps


def test_rooms_recipe_puts_every_piece_in_a_simulated_room(tmp_path):
    """The rooms recipe plans the general music (the same sources and references) with its own ids, and every
    piece it renders is heard through a simulated room (its acoustics in the manifest); the general recipe leaves
    most pieces dry."""
    import itertools

    rooms_jobs = list(itertools.islice(datasets.plan_jobs(5, "rooms"), 12))
    general = list(itertools.islice(datasets.plan_jobs(5), 12))
    assert [(j.source, j.ref) for j in rooms_jobs] == [(j.source, j.ref) for j in general]
    assert all("-rooms-s5-" in j.id and datasets._job_index(j.id, 5) == j.index for j in rooms_jobs)
    entries = [e for j in rooms_jobs[:3] if (e := datasets.render_job(j, tmp_path)) is not None]
    assert entries and all(e["acoustics"] is not None and len(e["acoustics"]["sources"]) == len(e["stems"])
                           for e in entries)
    assert datasets.RECIPES["general"].room_prob == datasets.SIMULATED_ROOM_PROB < 1 == datasets.RECIPES["rooms"].room_prob


def test_chamber_recipe_plans_quartet_movements_for_strings(tmp_path):
    import itertools

    jobs = list(itertools.islice(datasets.plan_jobs(5, "chamber"), 40))
    assert {j.source for j in jobs} == {"score"} and {j.recipe for j in jobs} == {"chamber"}
    assert {j.ref.split("/", 1)[0] for j in jobs} == {"beethoven", "mozart", "haydn"}
    assert all("-chamber-s5-" in j.id and datasets._job_index(j.id, 5) == j.index for j in jobs)
    general = list(itertools.islice(datasets.plan_jobs(5), 40))
    assert not any("chamber" in j.id for j in general) and {j.recipe for j in general} == {"general"}
    entry = datasets.render_job(jobs[0], tmp_path)
    assert entry["ensemble"] in datasets.RECIPES["chamber"].ensembles
    assert {s["class"] for s in entry["stems"]} <= {"violin", "viola", "cello", "contrabass"}
    with pytest.raises(MitkitError, match="recipe='opera' must be one of"):
        next(datasets.plan_jobs(5, "opera"))


def test_a_folder_keeps_one_recipe(tiny, tmp_path):
    root, _ = tiny
    assert datasets.folder_recipe(root) == "general"
    assert datasets.load_manifest(root)["recipe"] == "general"
    with pytest.raises(MitkitError, match="holds pieces of recipe 'general', not recipe='chamber'"):
        datasets.synth(root, hours=0.02, seed=11, shard=(1, 2), recipe="chamber", progress=False)
    legacy = tmp_path / "legacy"  # rendered before recipes: pieces and no recipe.json
    (legacy / "pieces").mkdir(parents=True)
    (legacy / "pieces" / "random-notes-s1-000000.json").write_text("{}")
    assert datasets.folder_recipe(legacy) == "general"
    assert datasets.folder_recipe(tmp_path / "new") is None
    with pytest.raises(MitkitError, match="recipe='opera' must be one of"):
        datasets.synth(tmp_path / "new", hours=1, recipe="opera")
    assert not (tmp_path / "new").exists()


def test_render_job_is_deterministic(tmp_path):
    job = datasets.Job(index=3, id="random-notes-s9-000003", source="random", ref="", seed=9)
    a = datasets.render_job(job, tmp_path / "a")
    b = datasets.render_job(job, tmp_path / "b")
    assert a == b
    import soundfile as sf

    for s in a["stems"]:
        xa, _ = sf.read(str(tmp_path / "a" / s["file"]))
        xb, _ = sf.read(str(tmp_path / "b" / s["file"]))
        assert np.array_equal(xa, xb) and np.abs(xa).max() > 0.01
    c = datasets.render_job(datasets.Job(4, "random-notes-s9-000004", "random", "", 9), tmp_path / "c")
    assert c["stems"][0]["notes"] != a["stems"][0]["notes"]


def test_stem_bank_and_mixture_dataset(tiny):
    root, man = tiny
    split = man["pieces"][0]["split"]
    bank = mixtures.StemBank(root, split, progress=False)
    piece = bank.pieces[0]
    K, n = piece["audio"].shape
    assert piece["frames"].shape == (K, N_PITCHES, n_frames_for(n))
    ds = mixtures.MixtureDataset(bank, clip_frames=200, max_instruments=4, seed=2, length=6,
                             gain_range=(1.0, 1.0), augment=False)
    for i in range(len(ds)):
        item = ds[i]
        assert item["audio"].shape == (200 * HOP_LENGTH,) and item["audio"].dtype == np.float32
        assert item["frames"].shape == item["onsets"].shape == (4, N_PITCHES, 200)
        k = item["n_instruments"]
        assert 1 <= k <= min(4, K) and not item["frames"][k:].any()
        p = next(q for q in bank.pieces if q["id"] == item["piece"])
        s0 = item["start_frame"]
        chosen = item["stems"][:k]
        assert len(set(chosen.tolist())) == k  # k different stems (players)
        ref = p["audio"][chosen, s0 * HOP_LENGTH:(s0 + 200) * HOP_LENGTH].sum(0)
        np.testing.assert_allclose(item["audio"][:len(ref)], ref, atol=1e-6)  # gains 1: the mix is the sum
        fr = p["frames"][chosen, :, s0:s0 + 200]
        assert np.array_equal(item["frames"][:k, :, :fr.shape[2]], fr)
    aug = mixtures.MixtureDataset(bank, clip_frames=200, seed=2, length=3)
    assert np.array_equal(aug[1]["audio"], aug[1]["audio"])  # item i is a function of (seed, i)
    other = mixtures.MixtureDataset(bank, clip_frames=200, seed=3, length=3)
    assert not np.array_equal(aug[1]["audio"], other[1]["audio"])
    names = ds.instrument_names(item)
    assert len(names) == k and all(n in inst.BY_NAME for n in names)
    fig = plots.plot_mixture_rolls(item["audio"], item["frames"][:k], names=names)
    assert len(fig.data) == 1 + k  # the waveform, then one trace of note bars per instrument
    for roll, trace in zip(item["frames"][:k], fig.data[1:]):
        bars = np.asarray(trace.x, float).reshape(-1, 3)  # (start_s, end_s, gap) per bar
        assert np.isclose((bars[:, 1] - bars[:, 0]).sum() * FRAME_RATE, (roll > 0.5).sum())


def test_stem_bank_pools_several_folders(tiny, tmp_path):
    import shutil

    root, man = tiny
    split = man["pieces"][0]["split"]
    other = tmp_path / "supplement"
    shutil.copytree(root, other)
    one = mixtures.StemBank(root, split, progress=False)
    both = mixtures.StemBank([root, other], split, progress=False)
    assert len(both) == 2 * len(one) and both.roots == [root, other]
    for a, b in zip(one.pieces, both.pieces[len(one):]):
        assert a["id"] == b["id"] and np.array_equal(a["audio"], b["audio"])
    with pytest.raises(MitkitError, match="at least one dataset folder"):
        mixtures.StemBank([], split)


def test_min_instruments_mixes_at_least_that_many_stems(tiny):
    root, man = tiny
    bank = mixtures.StemBank(root, man["pieces"][0]["split"], progress=False)
    most = min(4, max(p["audio"].shape[0] for p in bank.pieces))
    assert most >= 2
    default = mixtures.MixtureDataset(bank, clip_frames=64, seed=4, length=40, augment=False)
    two = mixtures.MixtureDataset(bank, clip_frames=64, seed=4, length=40, augment=False, min_instruments=2)
    counts = [default[i]["n_instruments"] for i in range(40)]
    assert 1 in counts  # 1 … 4 stems by default
    for i in range(40):
        k = two[i]["n_instruments"]
        piece = next(p for p in bank.pieces if p["id"] == two[i]["piece"])
        assert min(2, piece["audio"].shape[0]) <= k <= min(4, piece["audio"].shape[0])
    with pytest.raises(MitkitError, match="min_instruments=5 must be in 1..max_instruments"):
        mixtures.MixtureDataset(bank, min_instruments=5)


def test_dataset_errors(tmp_path, tiny):
    with pytest.raises(MitkitError, match="must hold manifest.json"):
        datasets.load_manifest(tmp_path)
    with pytest.raises(MitkitError, match="split='dev' must be one of"):
        mixtures.StemBank(tiny[0], "dev")
    held = {piece["split"] for piece in tiny[1]["pieces"]}
    empty = next(s for s in ("validation", "test", "train") if s not in held)  # a few pieces leave a split empty
    with pytest.warns(UserWarning, match="no pieces"):
        bank = mixtures.StemBank(tiny[0], empty, progress=False)
    with pytest.raises(MitkitError, match=f"no pieces of split '{empty}' in .*synthesize more hours"):
        mixtures.MixtureDataset(bank)
    with pytest.raises(MitkitError, match="hours=0 must be > 0"):
        datasets.synth(tmp_path, hours=0)
    with pytest.raises(MitkitError, match="shard=2/2 must satisfy"):
        datasets.synth(tmp_path, hours=1, shard=(2, 2))
    with pytest.raises(MitkitError, match="audio_format='mp3' must be one of"):
        datasets.synth(tmp_path, hours=1, audio_format="mp3")


def test_stored_chorale_groups_match_the_scores():
    """The stored table (scripts/make_chorale_groups.py) agrees with parsing, on a spread of chorales."""
    stored = _stored_chorale_groups()
    assert len(stored) == len(set(scores.chorale_names()))
    for ref in sorted(stored)[::70]:
        assert stored[ref] == parse_chorale_group(ref), ref


def test_chorale_benchmark_renders_each_chorale_once(tmp_path, monkeypatch):
    """music21 lists some chorales twice; a benchmark must not render one twice (same ids, and the
    second rendering's audio would overwrite the first's files)."""
    monkeypatch.setattr(scores, "chorale_names", lambda: ("bach/bwv253", "bach/bwv253", "bach/bwv347"))
    with pytest.warns(UserWarning, match="only 1 test chorales"):
        index = benchmarks.build_chorale_benchmark(tmp_path, n_chorales=2, max_seconds=8.0, progress=False)
    ids = [m["id"] for m in index["mixes"]]
    assert len(ids) == 6 and len(set(ids)) == 6


def test_chorale_benchmark_uses_test_chorales_only(tmp_path, monkeypatch):
    # a short chorale list (bwv253's tune is in the test split) keeps this fast
    monkeypatch.setattr(scores, "chorale_names", lambda: ("bach/bwv269", "bach/bwv253", "bach/bwv347"))
    index = benchmarks.build_chorale_benchmark(tmp_path, n_chorales=1, max_seconds=8.0, progress=False)
    assert index["format"] == "mitkit-benchmark" and len(index["mixes"]) == 6
    from mitkit.evaluation.benchmarks import load_benchmark
    assert [m.id for m in load_benchmark(tmp_path)] == [m["id"] for m in index["mixes"]]
    import soundfile as sf

    for m in index["mixes"]:
        assert split_of(chorale_group(m["chorale"])) == "test"
        assert len(m["parts"]) == m["n_parts"] and m["duration"] <= 8.0
        x, sr = sf.read(str(tmp_path / m["audio"]))
        assert sr == SAMPLE_RATE and len(x) / sr <= 8.0
        if m["instrumentation"] == "bach10":
            assert {p["program"] for p in m["parts"]} <= {40, 71, 66, 70}
        else:
            assert not {p["class"] for p in m["parts"]} & {"violin", "clarinet", "saxophone", "bassoon"}
        stems = [sf.read(str(tmp_path / p["stem"]))[0] for p in m["parts"]]
        np.testing.assert_allclose(m["gain"] * np.sum(stems, axis=0), x, atol=3e-4)  # the mix is the sum of its parts


def test_quartet_benchmark_is_a_string_quartet_from_its_split(tmp_path):
    from mitkit.evaluation.benchmarks import load_benchmark
    from mitkit.synth.splits import score_group
    assert benchmarks.quartet_movements("test") == []  # music21's quartets are in train and validation
    assert "mozart/k545/movement1_exposition.mxl" not in benchmarks.quartet_movements("validation")  # a sonata
    index = benchmarks.build_quartet_benchmark(tmp_path, n_excerpts=2, max_seconds=10.0, progress=False)
    assert len(index["mixes"]) == 2 and index["articulation"] == "written"
    for mix in index["mixes"]:
        assert split_of(score_group(mix["movement"])) == "validation"
        assert [p["class"] for p in mix["parts"]] == ["violin", "violin", "viola", "cello"]
        assert mix["duration"] <= 10.0 + 1.6  # the excerpt plus its lead-in and release tail
    mixes = load_benchmark(tmp_path)
    assert [m.n_parts for m in mixes] == [4, 4] and all(len(p) for m in mixes for p in m.parts)
    with pytest.raises(MitkitError, match="quartet movements"):
        benchmarks.build_quartet_benchmark(tmp_path / "t", split="test", progress=False)


def test_a_quartet_benchmark_in_a_simulated_room_keeps_its_notes_and_says_which_room(tmp_path):
    """--simulated-room: the same excerpt with the same notes, its stems heard from the players' places in a random
    room (stored as the mix's ``acoustics``), so the audio differs: reverberation rings on after the notes. Without
    it nothing is drawn, and a mix has no ``acoustics``."""
    import soundfile as sf

    from mitkit.cli import build_parser

    assert build_parser().parse_args(["quartet-bench", "--out", "x", "--simulated-room"]).simulated_room
    assert not build_parser().parse_args(["chorale-bench", "--out", "x"]).simulated_room
    dry = benchmarks.build_quartet_benchmark(tmp_path / "dry", n_excerpts=1, max_seconds=6.0, progress=False)
    wet = benchmarks.build_quartet_benchmark(tmp_path / "wet", n_excerpts=1, max_seconds=6.0, simulated_room=True,
                                             progress=False)
    [d], [w] = dry["mixes"], wet["mixes"]
    assert (dry["simulated_room"], wet["simulated_room"]) == (False, True) and "acoustics" not in d
    assert [p["notes"] for p in w["parts"]] == [p["notes"] for p in d["parts"]] and w["id"] == d["id"]
    room = w["acoustics"]
    assert len(room["sources"]) == 4 and 0.2 <= room["rt60"] and all(0 < x for x in room["size"])
    x_dry, x_wet = (sf.read(str(tmp_path / f / m["audio"]))[0] for f, m in (("dry", d), ("wet", w)))
    assert x_dry.shape == x_wet.shape and not np.allclose(x_dry, x_wet, atol=1e-3)
    # the reverberation carries each note on: the wet mix's quietest stretches are less quiet than the dry one's
    def quiet(x):
        frames = x[: len(x) // 512 * 512].reshape(-1, 512)
        return np.quantile(np.sqrt(np.mean(frames ** 2, axis=1)) / np.sqrt(np.mean(x ** 2)), 0.1)
    assert quiet(x_wet) > quiet(x_dry)


def test_an_accompanied_piece_renders_melody_and_one_chord_playing_stem(tmp_path):
    job = next(j for j in datasets.plan_jobs(9) if j.source == "chorale"
               and np.random.default_rng([j.seed, j.index, 4]).random() < datasets.ACCOMPANIED_PROB)
    entry = datasets.render_job(job, tmp_path)
    assert entry["ensemble"] == "accompanied" and len(entry["stems"]) in (2, 3)
    programs = [s["program"] for s in entry["stems"]]
    from mitkit.synth.instruments import BY_PROGRAM
    assert BY_PROGRAM[programs[-1]].polyphonic and not any(BY_PROGRAM[p].polyphonic for p in programs[:-1])
    assert entry["stems"][-1]["part"] == "accompaniment"
