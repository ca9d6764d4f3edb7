"""The procedural rooms and faces are deterministic and annotated (data/synth_rooms.py, synth_faces.py)."""

import numpy as np
import pytest

from tests.conftest import pack


@pytest.mark.parametrize("source", ["synth-rooms", "synth-faces"])
def test_synthetic_sets_are_deterministic_and_annotated(tmp_path, source):
    a = pack(source, tmp_path / "a", limit=24, workers=1)
    b = pack(source, tmp_path / "b", limit=24, workers=2)
    assert (tmp_path / "a" / "images.npy").read_bytes() == (tmp_path / "b" / "images.npy").read_bytes()
    assert a.meta["sha256"] == b.meta["sha256"]
    c = pack(source, tmp_path / "c", limit=24, seed=1, workers=1)
    assert a.meta["sha256"] != c.meta["sha256"]
    assert a.images.shape == (24, 3, 64, 64) and a.images.std() > 20
    if source == "synth-rooms":
        assert len(a.boxes) == 24 and all(len(b) >= 1 for b in a.boxes)
        windows = [box for boxes in a.boxes for box in boxes if box[0] == 0]
        assert windows and all(0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64 for _, x0, y0, x1, y1 in windows)
        small = pack(source, tmp_path / "s", limit=4, resolution=32, workers=1)
        assert small.images.shape == (4, 3, 32, 32)
        assert np.allclose(np.array(small.boxes[0])[:, 1:], np.array(a.boxes[0])[:, 1:] / 2, atol=0.01)
    else:
        names = a.attribute_names
        assert {"male", "smile", "glasses", "yaw"} <= set(names)
        assert a.attributes.shape == (24, len(names))
        yaw = a.attributes[:, names.index("yaw")]
        assert yaw.min() >= -1 and yaw.max() <= 1 and yaw.std() > 0.3


def test_smile_is_on_or_off_with_a_gap_at_its_threshold():
    from dcgan_core.data.synth_faces import ATTRIBUTES, ON_THRESHOLDS, render_face
    rng = np.random.default_rng(0)
    smile = np.array([render_face(rng)[1]["attributes"][ATTRIBUTES.index("smile")] for _ in range(60)])
    on = smile > ON_THRESHOLDS["smile"]
    assert 0.3 < on.mean() < 0.7  # Fig. 7's concepts: smiling or neutral, about half each
    assert smile[on].min() >= 0.55 and smile[~on].max() <= 0.15  # nothing near the threshold
