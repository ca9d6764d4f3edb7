import numpy as np
import pytest
import torch

from dcgan_core.core.models import build
from dcgan_core.instruments.latent import walk
from dcgan_core.studies.latent_walks import CROSSFADE, MEMORISER, UNTRAINED, smoothness_claim, walk_scores, walk_study
from dcgan_core.verdicts.rules import JUMP_RATIO_MAX
from tests.conftest import BrightnessJudge


def test_walk_study_and_claim_on_tiny_generators():
    torch.manual_seed(0)
    G, _ = build("tiny16")
    # a training set holding the walks' own end frames: the memoriser flips from one to the other
    ends = torch.cat([walk(G, G.sample_z(4, generator=torch.Generator().manual_seed(r)), 8)[:, [0, -1]].flatten(0, 1)
                      for r in (0, 1)])
    train = ((ends + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    torch.manual_seed(1)
    untrained, _ = build("tiny16")
    studies = {s: walk_study(G, BrightnessJudge(), train, n_anchors=4, steps=8, repeats=2, seed=s,
                             G_untrained=untrained, heldout_images=np.unique(train, axis=0)) for s in (0, 1, 2)}
    st = studies[0]
    assert len(st["ratios"]["trained, linear"]) == 6 and len(st["semantic"]["trained, linear"]) == 6
    assert set(st["ratios"]) == {"trained, linear", "trained, slerp", MEMORISER, UNTRAINED, CROSSFADE}
    assert np.allclose(st["ratios"][CROSSFADE], 1.0)  # fades step evenly: no segment jumps
    assert np.nanmedian(st["ratios"]["trained, linear"]) < np.nanmedian(st["ratios"][MEMORISER])
    claim = smoothness_claim(studies, "tiny test data")
    assert claim.section == "6.1" and claim.code == "dcgan_core.verdicts.rules.smooth_semantic_walk"
    assert {(c["name"], c["kind"]) for c in claim.controls} == {
        ("untrained G", "negative"), ("memoriser", "negative"), ("fades between held-out real images", "positive")}
    memoriser = next(c for c in claim.controls if c["name"] == "memoriser")
    assert memoriser["verdict"] != "reproduced"  # it jumps (or stands still)




def test_the_walk_claim_is_read_at_each_earlier_snapshot_on_the_same_z(tmp_path):
    """Issue 27: each snapshot's walks are that snapshot's G on the final G's anchors; the trend joins them."""
    from types import SimpleNamespace

    from dcgan_core.core.checkpoint import load_run
    from dcgan_core.core.train import TrainConfig, train
    from dcgan_core.studies.latent_walks import snapshot_walks, walk_scores, walk_trend
    from tests.conftest import two_mode_images, write_pack
    write_pack(tmp_path / "two", two_mode_images(128))
    cfg = TrainConfig.for_preset(str(tmp_path / "two"), "tiny16", epochs=2, batch_size=32, progress=False,
                                 snapshot_epochs=(1, 2))
    train(cfg, tmp_path / "run")
    P = SimpleNamespace(device="cpu", n_anchors=3, steps=6, repeats=1)
    at = snapshot_walks(tmp_path / "run", BrightnessJudge(), P, 0)
    G1 = load_run(tmp_path / "run", "cpu", "epoch-0001.pt")[0]
    direct = walk_study(G1, BrightnessJudge(), None, 3, 6, 1, 0, methods=("linear",))
    assert list(at) == [128] and at[128] == walk_scores(direct, "trained, linear")
    assert set(direct["ratios"]) == {"trained, linear"}  # no memoriser without training images, no slerp
    final = {0: walk_study(load_run(tmp_path / "run", "cpu")[0], BrightnessJudge(), None, 3, 6, 1, 0)}
    t = walk_trend(final, {0: at}, 256)
    assert list(t["images"]) == [128, 256] and t["statistic"] in ("segments with a jump",
                                                                  "segments with a semantic change")
    assert walk_trend(final, {0: {}}, 256) is None  # no earlier snapshot: no trend


@pytest.mark.parametrize("ratio, jumps", [(JUMP_RATIO_MAX, 0.0), (JUMP_RATIO_MAX + 1e-6, 1.0), (np.nan, 1.0)])
def test_a_segment_jumps_above_the_step_ratio_bar_or_when_it_stands_still(ratio, jumps):
    study = {"ratios": {"w": np.array([1.0, ratio])}, "semantic": {"w": np.array([True, False])}}
    assert walk_scores(study, "w") == (jumps / 2, 0.5)
