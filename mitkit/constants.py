"""Primary constants of mitkit and the values derived from them.

Every number that more than one module needs lives here. Primary values are typed once;
derived values are computed, never retyped (the values are the paper's, arXiv 2509.12712).

Glossary (matches the notebooks)
--------------------------------
sr : audio sample rate in Hz.
hop : CQT hop length in samples; one *frame* is ``hop / sr`` seconds.
F : CQT bins (288); F_s : bins after harmonic stacking (252); P : output pitches (84).
T : frames. K : number of instruments (tracks). D : embedding dimension (12).

Notebook: 01_cqt_and_energynorm (the CQT layout and the harmonic shifts)
"""
import math

# ---- audio -------------------------------------------------------------------------------
SAMPLE_RATE = 22050  # Hz; every waveform is resampled to this
HOP_LENGTH = 256  # samples between CQT frames
FRAME_RATE = SAMPLE_RATE / HOP_LENGTH  # ≈ 86.13 frames per second
FRAME_SECONDS = HOP_LENGTH / SAMPLE_RATE  # ≈ 11.6 ms per frame

# ---- pitch range of the output -------------------------------------------------------------
MIDI_MIN = 24  # C1, 32.70 Hz: the lowest output pitch
N_PITCHES = 84  # seven octaves of semitones
MIDI_MAX = MIDI_MIN + N_PITCHES - 1  # 107, B7

# ---- constant-Q transform ------------------------------------------------------------------
BINS_PER_SEMITONE = 3
BINS_PER_OCTAVE = 12 * BINS_PER_SEMITONE  # 36
N_OCTAVES = 8
N_BINS = BINS_PER_OCTAVE * N_OCTAVES  # 288


def midi_to_hz(midi):
    """Equal-tempered frequency of a (possibly fractional) MIDI number, A4 = 69 = 440 Hz."""
    return 440.0 * 2.0 ** ((midi - 69) / 12)


def hz_to_midi(hz):
    """Inverse of :func:`midi_to_hz`."""
    return 69 + 12 * math.log2(hz / 440.0)


# The centre bin of each 3-bin group sits on the semitone, so bin 0 is one third of a semitone flat.
FMIN = midi_to_hz(MIDI_MIN) * 2.0 ** (-1 / BINS_PER_OCTAVE)  # ≈ 32.08 Hz
CQT_FREQUENCIES = tuple(FMIN * 2.0 ** (k / BINS_PER_OCTAVE) for k in range(N_BINS))
Q_FACTOR = 1.0 / (2.0 ** (1.0 / BINS_PER_OCTAVE) - 1.0)  # ≈ 51.4, frequency over bandwidth


def pitch_to_bin(midi):
    """CQT bin whose centre is the (integer or fractional) MIDI pitch ``midi``."""
    return (midi - MIDI_MIN) * BINS_PER_SEMITONE + 1


# ---- harmonic stacking ---------------------------------------------------------------------
HARMONICS = (0.5, 1, 2, 3, 4, 5, 6, 7)
HARMONIC_SHIFTS = tuple(round(BINS_PER_OCTAVE * math.log2(h)) for h in HARMONICS)  # -36 … 101
N_HARMONICS = len(HARMONICS)  # 8 input channels
N_STACKED_BINS = N_PITCHES * BINS_PER_SEMITONE  # 252 bins = 7 octaves

# ---- timbre embeddings ---------------------------------------------------------------------
EMBEDDING_DIM = 12

# ---- limits ----------------------------------------------------------------------------------
MAX_INSTRUMENTS = 8  # largest K accepted by --instruments and the auto estimate's cap

# The index.json of a benchmark folder (written by mitkit.synth.benchmarks, read by mitkit.evaluation.benchmarks)
BENCHMARK_FORMAT, BENCHMARK_VERSION = "mitkit-benchmark", 1

# Splits of synthetic data and benchmarks (by piece group), and the audio formats a dataset may store
SPLITS = ("train", "validation", "test")
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")  # what a folder of recordings is searched for
AUDIO_FORMATS = {"flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS")}  # soundfile format, subtype

# Numeric precisions of the network's branches (inference and training): "auto" = bf16 where the CPU computes it
PRECISIONS = ("auto", "bf16", "fp32")

# Training stages (`mitkit train --stage`) and the branches each one trains; "onset" trains the AMT branch's
# onset layers only (the frame posterior stays as it was)
TRAINING_STAGES = {"joint": ("amt", "timbre"), "amt": ("amt",), "onset": ("amt",), "timbre": ("timbre",)}
