"""The two-branch network: pitch/onset (AMT) branch and timbre-embedding branch on one fixed CQT.

Notebook: 02_training

Shapes use B batch, C channels, F frequency bins, T frames, P = 84 pitches, D = 12 embedding dims.
The branches share only the CQT (the paper, arXiv 2509.12712: sharing a block hurt); each has its own EnergyNorm affine.
"""
from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F_

from mitkit import constants as C
from mitkit.errors import MitkitError
from mitkit.frontend import CQT, EnergyNorm, HarmonicStacking


@dataclass
class ModelConfig:
    amt_channels: int = 16  # width of the AMT branch's 5×5 convolutions
    timbre_channels: int = 16  # width of the timbre branch
    timbre_hidden: int = 24  # width inside the timbre branch's residual block
    embedding_dim: int = C.EMBEDDING_DIM  # D, the size of each bin's unit timbre vector
    harmonic_kernel: int = 25  # frequency taps of the dilated "harmonic context" convolution
    harmonic_dilation: int = 3  # 25 taps × dilation 3 span 73 bins ≈ ±1 octave
    onset_channels: int = 7  # onset features concatenated with Y_F before the onset head
    # the onset features also read the stacked CQT, not only the trunk's features (trained for frames): a
    # repeated note changes no sounding pitch, and its attack shows in the input's transients
    onset_reads_cqt: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


# the ModelConfig fields each branch reads: a branch can be kept when only the other branch's fields change
BRANCH_FIELDS = {"amt": {"amt_channels", "harmonic_kernel", "harmonic_dilation", "onset_channels", "onset_reads_cqt"},
                 "timbre": {"timbre_channels", "timbre_hidden", "embedding_dim", "harmonic_kernel", "harmonic_dilation"}}


def _conv(c_in, c_out, kernel, stride=(1, 1), dilation=(1, 1), padding=None):
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    if padding is None:  # "same" in time and (for stride 1) in frequency
        padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    return nn.Conv2d(c_in, c_out, kernel, stride=stride, dilation=dilation, padding=padding)


class HarmonicContext(nn.Module):
    """Dilated convolution over ±1 octave of bins back to 8 channels, added to the stacked input.

    Shapes: ``h`` ``(B, C, 252, T)``, ``x`` ``(B, 8, 252, T)`` → ``(B, 8, 252, T)``.
    """

    def __init__(self, c_in: int, cfg: ModelConfig):
        super().__init__()
        self.conv = _conv(c_in, C.N_HARMONICS, (cfg.harmonic_kernel, 3), dilation=(cfg.harmonic_dilation, 1))

    def forward(self, h, x):
        return self.dilated(h) + x

    def dilated(self, h):
        """``self.conv(h)``, computed as an ordinary convolution over the d interleaved sub-grids of bins
        (bins r, r + d, r + 2d, … for each r < d, stacked along the batch axis). The weights and the
        result are the same; on CPUs it avoids oneDNN's dilated kernels, whose backward pass took
        about 4x longer than the forward pass and dominated a training step."""
        d = self.conv.dilation[0]
        B, c_in, F, T = h.shape
        if d == 1 or F % d:
            return self.conv(h)
        sub = h.reshape(B, c_in, F // d, d, T).permute(0, 3, 1, 2, 4).reshape(B * d, c_in, F // d, T)
        y = F_.conv2d(sub, self.conv.weight, self.conv.bias,
                      padding=(self.conv.padding[0] // d, self.conv.padding[1]))  # (B·d, C_out, F/d, T)
        return y.reshape(B, d, -1, F // d, T).permute(0, 2, 3, 1, 4).reshape(B, -1, F, T)


class AMTBranch(nn.Module):
    """Frame and onset posteriorgram logits from the stacked CQT.

    Shapes: input ``(B, 8, 252, T)``; output two logits ``(B, 84, T)`` (frame, onset).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c = cfg.amt_channels
        self.conv_in = nn.Sequential(_conv(C.N_HARMONICS, c, 5), nn.BatchNorm2d(c), nn.LeakyReLU())
        self.context = HarmonicContext(c, cfg)
        self.conv_mid = nn.Sequential(_conv(C.N_HARMONICS, c, 5), nn.BatchNorm2d(c), nn.ReLU())
        # stride 3 in frequency maps the 3 bins of each semitone to one pitch: 252 → 84
        self.frame_head = _conv(c, 1, 5, stride=(3, 1), padding=(2, 2))
        self.onset_reads_cqt = cfg.onset_reads_cqt
        self.onset_features = nn.Sequential(
            _conv(c + C.N_HARMONICS * cfg.onset_reads_cqt, cfg.onset_channels, (7, 3), stride=(3, 1), padding=(2, 1)),
            nn.BatchNorm2d(cfg.onset_channels), nn.ReLU())
        self.onset_head = _conv(cfg.onset_channels + 1, 1, (3, 5))

    def onset_layers(self) -> list[nn.Module]:
        """The layers that only the onset posterior depends on (``--stage onset`` trains these alone)."""
        return [self.onset_features, self.onset_head]

    def forward(self, x):
        h = torch.relu(self.context(self.conv_in(x), x))  # (B, 8, 252, T)
        h = self.conv_mid(h)  # (B, 16, 252, T)
        frame_logit = self.frame_head(h)  # (B, 1, 84, T)
        features = self.onset_features(torch.cat([h, x], dim=1) if self.onset_reads_cqt else h)
        onset_in = torch.cat([features, torch.sigmoid(frame_logit)], dim=1)  # (B, 8, 84, T)
        onset_logit = self.onset_head(onset_in)  # (B, 1, 84, T)
        return frame_logit[:, 0], onset_logit[:, 0]


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of ``(B, C, F, T)`` at every bin."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x):
        return self.norm(x.movedim(1, -1)).movedim(-1, 1)


class ScaledInstanceNorm(nn.Module):
    """Instance norm over (F, T) with a learnable per-channel scale and no bias."""

    def __init__(self, channels: int):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1, channels, 1, 1))

    def forward(self, x):
        return F_.instance_norm(x) * self.scale


class TimbreBranch(nn.Module):
    """Unit-length timbre embeddings for every pitch bin and frame.

    Shapes: input ``(B, 8, 252, T)``; output ``(B, D=12, 84, T)``, L2-normalised over D.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c, hidden = cfg.timbre_channels, cfg.timbre_hidden
        self.conv_in = nn.Sequential(_conv(C.N_HARMONICS, c, 5), nn.GroupNorm(4, c), nn.LeakyReLU())
        self.context = HarmonicContext(c, cfg)
        self.conv_mid = nn.Sequential(nn.GroupNorm(2, C.N_HARMONICS), _conv(C.N_HARMONICS, c, 5), nn.PReLU())
        self.residual = nn.Sequential(ChannelLayerNorm(c), _conv(c, hidden, 3), nn.ReLU(), _conv(hidden, c, 3))
        self.norm = ScaledInstanceNorm(c)
        self.head = _conv(c, cfg.embedding_dim, (3, 5), stride=(3, 1), padding=(0, 2))

    def forward(self, x):
        h = self.context(self.conv_in(x), x)  # (B, 8, 252, T)
        h = self.conv_mid(h)  # (B, 16, 252, T)
        h = self.norm(h + self.residual(h))
        return F_.normalize(self.head(h), dim=1)  # (B, 12, 84, T)


class MitNet(nn.Module):
    """CQT → (EnergyNorm → harmonic stacking → branch) twice.

    ``forward(audio)`` takes a waveform ``(B, N)`` at 22,050 Hz and returns a dict with
    ``frame_logit``, ``onset_logit`` ``(B, 84, T)`` and, unless ``with_timbre=False``, ``V`` ``(B, 12, 84, T)``.
    ``sigma`` overrides the per-clip EnergyNorm scale (chunked inference passes the whole file's).

    Notebook: 02_training
    """

    def __init__(self, config: ModelConfig | None = None):
        super().__init__()
        self.config = config or ModelConfig()
        self.cqt = CQT()
        self.stack = HarmonicStacking()
        self.amt_norm, self.timbre_norm = EnergyNorm(), EnergyNorm()
        self.amt = AMTBranch(self.config)
        self.timbre = TimbreBranch(self.config)

    def forward(self, audio: torch.Tensor, *, sigma=None, with_amt: bool = True, with_timbre: bool = True,
                bf16: bool = False, timbre_frames: slice | None = None, timer=None):
        """Logits ``frame_logit``, ``onset_logit`` ``(B, 84, T)`` and embeddings ``V`` ``(B, 12, 84, T)``.

        ``timbre_frames`` (a slice of frames) runs the timbre branch on those frames only, ``V`` then
        ``(B, 12, 84, len)``: training samples a few hundred bins per clip for its contrastive loss, so it
        need not pay for the whole clip (``TrainConfig.timbre_frames``). The clip's energy scale is the
        whole clip's either way.

        ``timer``, when given, is called as ``with timer(stage):`` around the stages "cqt", "amt" and
        "timbre" (the speed harness, :mod:`mitkit.evaluation.stage_timings`, times them this way).
        """
        timer = timer or untimed
        with timer("cqt"):
            P = self.cqt.power(audio)  # (B, 288, T)
            if sigma is None:
                sigma = EnergyNorm.clip_scale(P)
        out = {}
        # the branches' convolutions may run in bfloat16 (inference on CPUs with native bf16: about 2x
        # faster, posteriors within 0.005); the CQT and the log stay in float32 for their dynamic range
        if with_amt:
            with timer("amt"):
                S = self.stack(self.amt_norm(P, sigma))  # (B, 8, 252, T)
                with torch.autocast(audio.device.type, dtype=torch.bfloat16, enabled=bf16):
                    frame_logit, onset_logit = self._branch("amt")(S)
                out["frame_logit"], out["onset_logit"] = frame_logit.float(), onset_logit.float()
        if with_timbre:
            with timer("timbre"):
                S = self.stack(self.timbre_norm(P if timbre_frames is None else P[..., timbre_frames], sigma))
                with torch.autocast(audio.device.type, dtype=torch.bfloat16, enabled=bf16):
                    out["V"] = self._branch("timbre")(S).float()
        return out

    def compile_branches(self):
        """Compile both branches with ``torch.compile`` for training: about 1.6x faster per bf16 step on a
        CPU (``scripts/bench_train.py``), after a one-off compilation of about 90 s. They run compiled in
        training mode only, where every clip has one shape; inference (any length) stays eager, as new
        shapes would recompile. Parameters and ``state_dict`` are the eager modules' own."""
        self.__dict__["_compiled"] = {"amt": torch.compile(self.amt), "timbre": torch.compile(self.timbre)}
        return self

    def _branch(self, name: str):
        compiled = self.__dict__.get("_compiled")
        return compiled[name] if compiled and self.training else getattr(self, name)


def widen_onset_layers(state: dict, fresh: dict) -> dict:
    """``state`` (a state dict) carried into a model whose onset layers are wider: more ``onset_channels``
    and/or ``onset_reads_cqt``. ``fresh`` is the wider model's own (freshly initialised) state dict.

    The widened model computes what the original did (up to float rounding) until training changes it:
    the old features' new inputs (the stacked CQT) start at zero weight, and the onset head reads the new
    features with zero weight; the new features themselves start from ``fresh`` (random), so they learn.

    >>> a = MitNet(); b = MitNet(ModelConfig(onset_channels=12, onset_reads_cqt=True))
    >>> _ = b.load_state_dict(widen_onset_layers(a.state_dict(), b.state_dict()))
    >>> x = torch.randn(1, 22050)
    >>> torch.allclose(a.eval()(x)["onset_logit"], b.eval()(x)["onset_logit"], atol=1e-5)
    True
    """
    out = dict(state)
    conv = "amt.onset_features.0.weight"
    n_out, n_in = state[conv].shape[:2]
    if fresh[conv].shape[0] < n_out or fresh[conv].shape[1] < n_in:
        raise MitkitError(f"the onset layers can only be widened: {tuple(state[conv].shape)} does not fit into "
                          f"{tuple(fresh[conv].shape)}")
    w = fresh[conv].clone()
    w[:n_out] = 0.0
    w[:n_out, :n_in] = state[conv]
    out[conv] = w
    for key in ("amt.onset_features.0.bias", "amt.onset_features.1.weight", "amt.onset_features.1.bias",
                "amt.onset_features.1.running_mean", "amt.onset_features.1.running_var"):
        out[key] = torch.cat([state[key], fresh[key][n_out:]])
    head, wide = state["amt.onset_head.weight"], fresh["amt.onset_head.weight"].shape[1] - 1
    w = head.new_zeros(fresh["amt.onset_head.weight"].shape)  # inputs: the features, then the frame posterior
    w[:, :n_out], w[:, wide] = head[:, :n_out], head[:, n_out]
    out["amt.onset_head.weight"] = w
    return out


def untimed(stage: str):
    """The timer of an untimed run: a context manager that does nothing."""
    return contextlib.nullcontext()


def native_bf16() -> bool:
    """True when this CPU computes bfloat16 convolutions natively (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def parameter_count(model: nn.Module) -> dict:
    """Trainable and fixed (buffer) element counts, per branch and in total.

    Returns a dict with keys ``amt``, ``timbre``, ``trainable``, ``fixed`` (CQT kernels and filters,
    BatchNorm statistics).

    Notebook: 02_training, 04_speed_benchmarks
    """
    def trainable(module):
        return sum(p.numel() for p in module.parameters() if p.requires_grad)

    counts = {"trainable": trainable(model),
              "fixed": sum(b.numel() for b in model.buffers()) + sum(p.numel() for p in model.parameters()
                                                                     if not p.requires_grad)}
    if isinstance(model, MitNet):
        counts["amt"] = trainable(model.amt) + trainable(model.amt_norm)
        counts["timbre"] = trainable(model.timbre) + trainable(model.timbre_norm)
    return counts
