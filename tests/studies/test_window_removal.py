import numpy as np
import pytest
import torch

from dcgan_core.core.models import Generator, resolve
from dcgan_core.instruments.interventions import generate
from dcgan_core.verdicts import rules


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    return Generator(resolve("cpu32-rgb")).eval()


@pytest.mark.parametrize("drop, random, expect", [
    ([0.30, 0.25, 0.28], [[0.05, 0.10, 0.12]] * 3, "reproduced"),
    ([0.30, 0.08, 0.28], [[0.05, 0.10, 0.12]] * 3, "borderline"),  # one seed below a random draw
    ([0.05, 0.06, 0.04], [[0.05, 0.10, 0.12]] * 3, "not reproduced"),  # a random draw against the others
])
def test_removes_windows_rule(drop, random, expect):
    assert rules.removes_windows(drop, random).verdict == expect


@pytest.mark.parametrize("other, fd, expect", [
    ([0.01, 0.02, 0.01], [1.0, 1.5, 1.2], "reproduced"),
    ([0.01, 0.04, 0.01], [1.0, 1.5, 1.2], "borderline"),  # one seed changes the other objects more than a draw
    ([0.01, 0.02, 0.01], [9.0, 8.0, 9.5], "partly"),  # the other objects kept, the picture worse
    ([0.20, 0.25, 0.30], [9.0, 8.0, 9.5], "not reproduced"),  # every map of the layer dropped
])
def test_scene_kept_rule(other, fd, expect):
    r_other, r_fd = [[0.02, 0.03, 0.05]] * 3, [[1.0, 2.0, 3.0]] * 3
    assert rules.scene_kept(other, fd, r_other, r_fd).verdict == expect


class BrightSpots:
    """A stand-in detector: a 6x6 'window' (class 0) on the reddest 6x6 patch of an image whose reddest patch is
    redder than its image mean by `margin` grey levels; nothing else."""

    margin = 2

    def masks(self, images):
        from scipy.ndimage import uniform_filter

        red = np.asarray(images)[:, 0].astype(float)
        out = np.zeros((len(red), 3) + red.shape[1:], bool)
        for i, r in enumerate(red):
            local = uniform_filter(r, 6, mode="nearest")
            y, x = np.unravel_index(np.argmax(local), r.shape)
            if local[y, x] > r.mean() + self.margin:
                out[i, 0, max(y - 3, 0):y + 3, max(x - 3, 0):x + 3] = True
        return out


class PooledPixels:
    """A stand-in judge: 4x4-pooled pixels as its feature space."""

    def embed(self, images):
        x = torch.as_tensor(np.asarray(images)).float()
        return torch.nn.functional.avg_pool2d(x, 8).flatten(1).numpy()


def test_seed_study_effects_and_claims_on_stand_ins():
    from dcgan_core.studies import window_removal

    torch.manual_seed(0)
    G = Generator(resolve("cpu32-rgb", init_std=0.2)).eval()  # a larger init: samples with contrast to detect

    ref = PooledPixels().embed(np.random.default_rng(0).integers(0, 256, (200, 3, 32, 32), dtype=np.uint8))
    detector = BrightSpots()
    st = window_removal.seed_study(G, detector, detector, PooledPixels(), ref, ["window", "bed", "door"], -2,
                                   n_fit=20, n_eval=60, n_random=3, seed=0)
    assert st["layer"] == 1 and set(st["fits"]) == {0, 1, 2}
    w = st["fits"][1]["weights"]
    assert (w[st["fits"][1]["negative"]] < 0).all() and (w[st["fits"][1]["positive"]] > 0).all()
    eff = window_removal.effects(st)
    assert eff["none"]["window_drop"][0] == 0 and eff["none"]["fd_change"] == 0
    assert eff["every map of the layer"]["window_rate"] != eff["none"]["window_rate"]
    table = window_removal.effects_table({0: st})
    assert "random maps (3 draws, mean)" in table and "| window maps |" in table
    claims = window_removal.claims_over_seeds({0: st}, "stand-in data")
    assert [c.verdict for c in claims][0] in rules.VERDICTS and all(c.seeds == [0] for c in claims)
    assert window_removal.claims_over_seeds({}, "x")[0].verdict == "not testable at this scale"


def test_one_segmenter_selects_the_maps_and_the_other_counts_the_windows():
    from dcgan_core.studies import window_removal

    class Logged(BrightSpots):
        def __init__(self):
            self.calls = 0

        def masks(self, images):
            self.calls += 1
            return super().masks(images)
    torch.manual_seed(0)
    G = Generator(resolve("cpu32-rgb", init_std=0.2)).eval()
    ref = PooledPixels().embed(np.random.default_rng(0).integers(0, 256, (50, 3, 32, 32), dtype=np.uint8))
    selector, scorer = Logged(), Logged()
    st = window_removal.seed_study(G, selector, scorer, PooledPixels(), ref, ["window", "bed", "door"], -2,
                                   n_fit=20, n_eval=30, n_random=2, seed=0)
    assert selector.calls == 3  # one fit per layer (the paper's and its neighbours): the selector's boxes only
    assert scorer.calls == len(st["conditions"])  # every count is the scorer's
    assert all(sel != sc for sel, sc in window_removal.PAIRINGS.values())  # the chapter pairs different segmenters


class SeesPlantedWindows:
    """A stand-in detector that sees exactly the planted G's windows: for each image, the cached room it is nearest
    to, and its window pixels where the image shows them (class 0); dark pixels (class 1) stand for the rest."""

    def __init__(self, G):
        self.G = G

    def masks(self, images):
        rooms = list(self.G._rooms.values())
        to_uint8 = lambda x: np.round((x + 1) * 127.5)  # noqa: E731
        with_w = np.stack([to_uint8(r[0]) for r in rooms]).reshape(len(rooms), -1)
        without = np.stack([to_uint8(r[1]) for r in rooms]).reshape(len(rooms), -1)
        x = np.asarray(images, np.float32).reshape(len(images), -1)
        nearest = torch.cdist(torch.from_numpy(x), torch.from_numpy(np.concatenate([with_w, without]))).argmin(1)
        out = np.zeros((len(images), 2) + images.shape[2:], bool)
        size = images.shape[-1]
        for i, k in enumerate(nearest.numpy()):
            if k < len(rooms):  # nearest to a room with its windows drawn
                cover = torch.from_numpy(rooms[k][2][None, None].astype(np.float32))
                window = torch.nn.functional.adaptive_avg_pool2d(cover, size)[0, 0].numpy() >= 0.5
                out[i, 0] = window & (np.asarray(images[i]).max(0) > 0)
        out[:, 1] = np.asarray(images).max(1) < 40
        return out


def test_planted_window_g_passes_both_rules_and_the_controls_fail():
    from dcgan_core.instruments.controls import PlantedWindowG
    from dcgan_core.studies import window_removal

    z_ref = torch.rand(100, 16, generator=torch.Generator().manual_seed(9)) * 2 - 1
    ref = PooledPixels().embed(generate(PlantedWindowG(32, [64, 32, 16]), z_ref))  # held-out rooms stand-in
    studies = {}
    for seed in (0, 1, 2):
        G = PlantedWindowG(32, [64, 32, 16])
        sees = SeesPlantedWindows(G)
        studies[seed] = window_removal.seed_study(G, sees, sees, PooledPixels(), ref, ["window", "dark"],
                                                  -2, n_fit=60, n_eval=40, n_random=5, seed=seed)
    planted = window_removal.rule_outcomes(studies)
    assert planted["removes"].verdict == "reproduced" and planted["kept"].verdict == "reproduced"
    fires, scene = window_removal.claims_over_seeds(studies, "stand-in data", planted=studies)
    for claim in (fires, scene):  # the negative controls do not pass (one random draw, every map dropped)
        negatives = [r["verdict"] for r in claim.controls if r["kind"] == "negative"]
        assert len(negatives) == 1 and negatives[0] not in rules.PASSING, negatives
    assert fires.verdict == scene.verdict == "reproduced"  # the planted G read as the model: it has the property
    without = window_removal.claims_over_seeds(studies, "stand-in data")
    assert [c.verdict for c in without] == ["inconclusive"] * 2  # no positive control: not called reproduced


def test_both_rules_are_read_at_each_earlier_snapshot_with_that_snapshots_g(tmp_path):
    """Issue 27: a snapshot's study is that snapshot's G (not the final one), with only what the rules read."""
    from dcgan_core.core.checkpoint import load_run
    from dcgan_core.core.train import TrainConfig, train
    from dcgan_core.studies import window_removal
    from tests.conftest import two_mode_images, write_pack

    write_pack(tmp_path / "two", two_mode_images(128))
    cfg = TrainConfig.for_preset(str(tmp_path / "two"), "tiny16", epochs=2, batch_size=32, progress=False,
                                 snapshot_epochs=(1, 2))
    train(cfg, tmp_path / "run")
    ref = PooledPixels().embed(np.random.default_rng(0).integers(0, 256, (50, 1, 16, 16), dtype=np.uint8))
    faint = type("FaintSpots", (BrightSpots,), {"margin": 0.1})()  # a G after 4 steps has little contrast
    args = (faint, faint, PooledPixels(), ref, ["window", "bed", "door"], -2, 20)
    at = window_removal.snapshot_studies(tmp_path / "run", *args, 900, 3, 0, "cpu")
    assert list(at) == [128]  # epoch 1 of 4 steps of 32; epoch 2 holds the final weights and is left out
    first = load_run(tmp_path / "run", "cpu", "epoch-0001.pt")[0]
    direct = window_removal.seed_study(first, *args, window_removal.SNAPSHOT_EVAL, 3, 0, rule_only=True)
    assert set(at[128]["conditions"]) == {"none", "window maps", "random maps 0", "random maps 1", "random maps 2"}
    assert len(at[128]["measures"]["none"]["present"]) == window_removal.SNAPSHOT_EVAL  # fewer z than n_eval
    assert set(at[128]["fits"]) == {at[128]["layer"]}  # no fits of the layers around it
    for name, m in direct["measures"].items():
        assert np.array_equal(at[128]["measures"][name]["present"], m["present"])
    final = window_removal.seed_study(load_run(tmp_path / "run", "cpu")[0], *args, 60, 3, 0)
    assert not np.array_equal(final["measures"]["none"]["area"][:60], at[128]["measures"]["none"]["area"][:60])
    fires, scene = window_removal.claims_over_seeds({0: final}, "stand-in data", at={0: at}, final_seen=256)
    assert list(fires.trend["images"]) == list(scene.trend["images"]) == [128, 256]
    assert fires.trend["statistic"] == "window-rate drop - largest random drop"
    assert window_removal.claims_over_seeds({0: final}, "x", at={0: {}}, final_seen=256)[0].trend is None
