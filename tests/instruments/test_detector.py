import numpy as np
import pytest
import torch

from dcgan_core.instruments import detector
from tests.conftest import pack, two_mode_images, write_pack


def test_detector_boxes_presence_and_refusals(tmp_path):
    mask = np.zeros((8, 8), bool)
    mask[1:3, 2:5] = True  # 6 px
    mask[6, 6] = True  # 1 px: below MIN_PIXELS
    assert detector.boxes_of(mask) == [[2.0, 1.0, 5.0, 3.0]]
    masks = np.zeros((2, 3, 8, 8), bool)
    masks[0, 1, :2, :2] = True
    assert detector.presence(masks).tolist() == [[False, True, False], [False, False, False]]
    with pytest.raises(ValueError, match="no object boxes"):
        detector.fit_detector(pack_of_two_modes(tmp_path))


def pack_of_two_modes(tmp_path):
    from dcgan_core.data.packed import load_pack
    return load_pack(write_pack(tmp_path / "two", two_mode_images(8)))


def test_detector_trains_on_rooms_and_caches(tmp_path, monkeypatch):
    rooms = pack("synth-rooms", tmp_path / "rooms", resolution=32, limit=64, workers=1)
    cfg = detector.DetectorConfig(epochs=1, batch_size=32, width=8)
    det = detector.fit_detector(rooms, cfg, tmp_path / "cache", progress=False)
    masks = det.masks(np.asarray(rooms.images[:4]))
    assert masks.shape == (4, 7, 32, 32) and masks.dtype == bool
    assert len(list((tmp_path / "cache").glob("detector-*.pt"))) == 1
    monkeypatch.setattr(detector, "_train", lambda *a, **k: pytest.fail("trained again instead of loading"))
    again = detector.fit_detector(rooms, cfg, tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(again.masks(np.asarray(rooms.images[:4])), masks)
    assert set(detector.scores(det, rooms)) == set(rooms.meta["box_classes"])




def test_detector_features_present_the_class_maps_as_a_discriminator_layer():
    from dcgan_core.instruments.saliency import feature_study, max_responses

    torch.manual_seed(0)
    seg = detector.ObjectSegmenter(3, 2, width=4).eval()
    net = detector.DetectorFeatures(seg).eval()
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(net(x), seg(x))  # the same maps the detector marks objects with
    images = (np.random.default_rng(0).random((8, 3, 16, 16)) * 255).astype(np.uint8)
    assert max_responses(net, images).shape == (8, 2)
    boxes = [[[0, 0, 0, 8, 8]]] * 8  # class 0 in the top-left quarter of every image
    feats = feature_study(net, images, boxes, 2, top=5)
    assert [f["feature"] for f in feats] == [0, 1] and all(len(f["top"]) == 5 for f in feats)


def test_the_second_segmenter_is_another_architecture_and_the_two_agree_by_kappa():
    from dcgan_core.instruments.detector import DetectorConfig, ObjectSegmenter, agreement
    a, b = ObjectSegmenter(3, 2, 8, "a"), ObjectSegmenter(3, 2, 8, "b")
    kinds = {arch: {type(m) for m in net.modules()} for arch, net in (("a", a), ("b", b))}
    assert torch.nn.BatchNorm2d in kinds["a"] - kinds["b"] and torch.nn.MaxPool2d in kinds["b"] - kinds["a"]
    x = torch.randn(2, 3, 32, 32)
    assert b(x).shape == a(x).shape == (2, 2, 32, 32)
    assert DetectorConfig.scorer("b").seed != DetectorConfig.scorer("a").seed
    with pytest.raises(ValueError, match="arch must be one of"):
        ObjectSegmenter(3, 2, 8, "c")

    class Fixed:
        def __init__(self, masks):
            self.m = masks

        def masks(self, images):
            return self.m
    on = np.zeros((6, 2, 4, 4), bool)
    on[:3, 0] = True  # class 0 present in the first three images, class 1 nowhere
    flipped = on.copy()
    flipped[:, 0] = ~on[:, 0]
    k = agreement(Fixed(on), Fixed(flipped), np.zeros((6, 3, 4, 4)), ["window", "bed"])
    assert k["window"] == -1.0 and np.isnan(k["bed"])
    assert agreement(Fixed(on), Fixed(on), np.zeros((6, 3, 4, 4)), ["window", "bed"])["window"] == 1.0
