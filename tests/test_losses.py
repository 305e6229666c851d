import math

import pytest
import torch

from mitkit.training.losses import deep_clustering_loss, focal_loss, info_nce_loss, sample_active_bins, timbre_loss


def test_focal_loss_known_values():
    logits = torch.tensor([0.0, 0.0])
    # p = 0.5: positive term α·0.5·log 2, negative term (1−α)·0.5·log 2
    pos = focal_loss(logits[:1], torch.ones(1), alpha=0.2)
    neg = focal_loss(logits[:1], torch.zeros(1), alpha=0.2)
    assert float(pos) == pytest.approx(0.2 * 0.5 * math.log(2))
    assert float(neg) == pytest.approx(0.8 * 0.5 * math.log(2))
    # γ = 0 is α-weighted cross-entropy
    assert float(focal_loss(torch.tensor([2.0]), torch.ones(1), alpha=1.0, gamma=0.0)) == pytest.approx(
        -math.log(torch.sigmoid(torch.tensor(2.0)).item()))


def test_focal_loss_is_stable_for_large_logits():
    logits = torch.tensor([50.0, -50.0], requires_grad=True)
    loss = focal_loss(logits, torch.tensor([0.0, 1.0]), alpha=0.06)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()


def test_info_nce_perfect_and_single_instrument():
    e = torch.eye(2)
    v = torch.cat([e[:1].repeat(5, 1), e[1:].repeat(5, 1)])
    labels = torch.tensor([0] * 5 + [1] * 5)
    good = info_nce_loss(v, labels)
    # hand value: each anchor has 4 positives at s=1/τ and 5 negatives at 0
    tau = 0.15
    expected = -(1 / tau - math.log(4 * math.exp(1 / tau) + 5))
    assert float(good) == pytest.approx(expected, rel=1e-5)
    bad = info_nce_loss(v, torch.tensor([0, 1] * 5))
    assert float(bad) > float(good)
    assert float(info_nce_loss(v, torch.zeros(10, dtype=torch.long))) == 0.0


def test_deep_clustering_zero_for_orthogonal_ideal():
    e = torch.eye(3)
    v = torch.cat([e[:1].repeat(4, 1), e[1:2].repeat(3, 1)])
    labels = torch.tensor([0] * 4 + [1] * 3)
    assert float(deep_clustering_loss(v, labels)) == pytest.approx(0.0, abs=1e-6)
    assert float(deep_clustering_loss(v, torch.tensor([0, 1] * 3 + [0]))) > 0


def test_sample_active_bins_skips_unisons_and_bounds_count():
    rolls = torch.zeros(2, 84, 10)
    rolls[0, 40, :] = 1
    rolls[1, 50, :] = 1
    rolls[1, 40, :5] = 1  # unison with instrument 0 for 5 frames
    V = torch.randn(12, 84, 10)
    v, labels = sample_active_bins(V, rolls, max_bins=1000)
    assert len(v) == 15 and int((labels == 0).sum()) == 5
    v, labels = sample_active_bins(V, rolls, max_bins=7)
    assert len(v) == 7


def test_timbre_loss_gradients_finite(rng):
    V = torch.nn.functional.normalize(torch.randn(2, 12, 84, 30), dim=1).requires_grad_()
    rolls = torch.zeros(2, 3, 84, 30)
    rolls[:, 0, 30:33] = 1
    rolls[:, 1, 60:62] = 1
    for kind in ("infonce", "deep_clustering"):
        loss = timbre_loss(V, rolls, kind=kind)
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(V.grad).all()


def test_reattack_weights_mark_only_onsets_of_a_sounding_pitch():
    from mitkit.training.losses import reattack_weights
    frames = torch.zeros(1, 3, 8)
    onsets = torch.zeros(1, 3, 8)
    frames[0, 0, 1:7] = 1  # pitch 0: note at 1, re-attacked at 4 without a gap
    onsets[0, 0, 1] = onsets[0, 0, 4] = 1
    frames[0, 1, 5:8] = 1  # pitch 1: a note after silence
    onsets[0, 1, 5] = 1
    w = reattack_weights(frames, onsets, 5.0)
    assert w[0, 0, 4] == 5.0
    assert w[0, 0, 1] == 1.0 and w[0, 1, 5] == 1.0
    assert float(w.sum()) == 3 * 8 + 4.0


def test_spread_in_time_widens_each_onset_and_keeps_the_rest():
    from mitkit.training.losses import spread_in_time
    onsets = torch.zeros(2, 3, 9)
    onsets[0, 1, 4] = 1  # inside
    onsets[1, 2, 0] = 1  # at the first frame: the spread is cut at the edge
    onsets[1, 0, 7] = onsets[1, 0, 8] = 1  # two onsets in a row merge
    assert torch.equal(spread_in_time(onsets, 0), onsets)
    one = spread_in_time(onsets, 1)
    assert one.shape == onsets.shape
    assert torch.nonzero(one[0, 1]).flatten().tolist() == [3, 4, 5]
    assert torch.nonzero(one[1, 2]).flatten().tolist() == [0, 1]
    assert torch.nonzero(one[1, 0]).flatten().tolist() == [6, 7, 8]
    assert float(one.sum()) == 3 + 2 + 3
    two = spread_in_time(onsets, 2)
    assert torch.nonzero(two[0, 1]).flatten().tolist() == [2, 3, 4, 5, 6]
    weights = 1.0 + 4.0 * onsets  # a weight map is spread the same way: its largest value wins
    assert torch.equal(spread_in_time(weights, 1)[0, 1, 3:6], torch.full((3,), 5.0))


def test_positive_weight_scales_only_the_positive_term():
    logits = torch.tensor([[0.3, -1.2]])
    targets = torch.tensor([[1.0, 0.0]])
    plain = focal_loss(logits, targets, alpha=0.25)
    doubled = focal_loss(logits, targets, alpha=0.25, positive_weight=torch.tensor([[2.0, 2.0]]))
    pos_only = focal_loss(logits[:, :1], targets[:, :1], alpha=0.25) / 2  # mean over 2 elements
    assert torch.isclose(doubled - plain, pos_only)
