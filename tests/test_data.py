"""Every source packs from small files written in its official format; bad input fails clearly."""

import io
import json
import pickle

import numpy as np
import pytest
from PIL import Image

from dcgan_core.data.images import BadImage
from dcgan_core.data.packed import PackError, load_pack
from dcgan_core.data.sources import SOURCES, pack_source


def pack(source, out, **kw):
    return load_pack(pack_source(source, out, progress=False, **kw))


def jpeg_bytes(arr: np.ndarray, fmt="JPEG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt)
    return buf.getvalue()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_cifar10_pickle_batches(tmp_path, rng):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data = rng.integers(0, 256, (6, 3072), dtype=np.uint8)
    with open(folder / "test_batch", "wb") as f:
        pickle.dump({"data": data, "labels": [3, 1, 4, 1, 5, 9], "batch_label": "testing batch 1 of 1"}, f)
    p = pack("cifar10", tmp_path / "out", root=tmp_path, split="test")
    assert p.images.shape == (6, 3, 32, 32) and p.images.dtype == np.uint8
    assert np.array_equal(p.images[2], data[2].reshape(3, 32, 32))  # native size: untouched
    assert p.labels.tolist() == [3, 1, 4, 1, 5, 9] and p.meta["class_names"][3] == "cat"
    with pytest.raises(FileNotFoundError, match="fetch cifar10"):
        pack_source("cifar10", tmp_path / "out2", root=tmp_path, split="train", progress=False)


def test_svhn_mat(tmp_path, rng):
    from scipy.io import savemat

    X = rng.integers(0, 256, (32, 32, 3, 5), dtype=np.uint8)
    savemat(tmp_path / "test_32x32.mat", {"X": X, "y": np.array([[10], [1], [2], [10], [9]], np.uint8)})
    p = pack("svhn", tmp_path / "out", root=tmp_path, split="test")
    assert p.labels.tolist() == [0, 1, 2, 0, 9]  # 10 means digit 0
    assert np.array_equal(p.images[1], X[..., 1].transpose(2, 0, 1))
    p = pack("svhn", tmp_path / "grey16", root=tmp_path, split="test", resolution=16, channels=1)
    assert p.images.shape == (5, 1, 16, 16)


def test_lsun_lmdb_resizes_and_skips_bad_records(tmp_path, rng):
    import lmdb

    db = tmp_path / "bedroom_train_lmdb"
    env = lmdb.open(str(db), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i in range(4):
            img = rng.integers(0, 256, (96 + 8 * i, 128, 3), dtype=np.uint8)
            txn.put(f"key{i}".encode(), jpeg_bytes(img, "WEBP" if i % 2 else "JPEG"))
        txn.put(b"key9", b"not an image")
    env.close()
    with pytest.raises(BadImage, match="key9"):
        pack_source("lsun", tmp_path / "strict", root=tmp_path, progress=False)
    assert not (tmp_path / "strict").exists()
    p = pack("lsun", tmp_path / "out", root=tmp_path, skip_bad=True)
    assert p.images.shape == (4, 3, 64, 64)
    assert p.meta["skipped"]["count"] == 1 and "key9" in p.meta["skipped"]["files"][0]
    with pytest.raises(FileNotFoundError, match="download.py -c kitchen"):
        pack_source("lsun", tmp_path / "x", root=tmp_path, category="kitchen", progress=False)


def write_celeba(root, rng, n=4):
    base = root / "celeba"
    (base / "img_align_celeba").mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for name in names:
        Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(base / "img_align_celeba" / name)
    attrs = ["Eyeglasses", "Male", "Smiling"]
    rows = [f"{nm} {' '.join(str(v) for v in rng.choice([-1, 1], 3))}" for nm in names]
    (base / "list_attr_celeba.txt").write_text(f"{n}\n{' '.join(attrs)}\n" + "\n".join(rows) + "\n")
    lm = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y"
    rows = [f"{nm} 69 109 106 113 77 142 73 152 108 154" for nm in names]
    (base / "list_landmarks_align_celeba.txt").write_text(f"{n}\n{lm}\n" + "\n".join(rows) + "\n")
    (base / "list_eval_partition.txt").write_text("".join(f"{nm} {0 if i < n - 1 else 2}\n"
                                                          for i, nm in enumerate(names)))
    return attrs


def test_celeba_folder_with_attributes_and_landmarks(tmp_path, rng):
    attrs = write_celeba(tmp_path, rng)
    p = pack("celeba", tmp_path / "out", root=tmp_path, split="train")
    assert p.images.shape == (3, 3, 64, 64) and p.attribute_names == attrs
    assert p.attributes.shape == (3, 3) and set(np.unique(p.attributes)) <= {0, 1}
    # square crop of a 178x218 image: 178x178 from top 20, scaled by 64/178
    assert np.allclose(p.landmarks[0][:2], [69 * 64 / 178, (109 - 20) * 64 / 178], atol=1e-4)
    p = pack("celeba", tmp_path / "c108", root=tmp_path, split="all", crop="common108")
    assert len(p) == 4 and p.meta["crop"] == "common108"
    assert np.allclose(p.landmarks[0][:2], [(69 - 35) * 64 / 108, (109 - 55) * 64 / 108], atol=1e-4)


def test_imagenet32_batches(tmp_path, rng):
    data = rng.integers(0, 256, (7, 3072), dtype=np.uint8)
    with open(tmp_path / "val_data", "wb") as f:
        pickle.dump({"data": data, "labels": [1, 2, 3, 1000, 5, 6, 7]}, f)
    p = pack("imagenet32", tmp_path / "out", root=tmp_path, split="val")
    assert p.labels.tolist() == [0, 1, 2, 999, 4, 5, 6]  # stored 1-based
    assert np.array_equal(p.images[3], data[3].reshape(3, 32, 32))


def test_folder_modes_labels_and_corrupt_files(tmp_path, rng):
    root = tmp_path / "photos"
    for cls in ("cats", "dogs"):
        (root / cls).mkdir(parents=True)
    Image.fromarray(rng.integers(0, 256, (40, 50), dtype=np.uint8)).save(root / "cats" / "grey.png")
    Image.fromarray(rng.integers(0, 256, (40, 40, 4), dtype=np.uint8), "RGBA").save(root / "cats" / "rgba.png")
    Image.fromarray(rng.integers(0, 256, (30, 60, 3), dtype=np.uint8)).convert("P").save(root / "dogs" / "pal.gif")
    (root / "dogs" / "broken.jpg").write_bytes(jpeg_bytes(np.zeros((20, 20, 3), np.uint8))[:40])
    with pytest.raises(BadImage, match="broken.jpg.*--skip-bad"):
        pack_source("folder", tmp_path / "out", root=root, progress=False)
    assert not (tmp_path / "out").exists()
    p = pack("folder", tmp_path / "out", root=root, skip_bad=True, labels_from_dirs=True, resolution=32)
    assert p.images.shape == (3, 3, 32, 32)
    assert p.meta["class_names"] == ["cats", "dogs"] and sorted(p.labels.tolist()) == [0, 0, 1]
    assert p.meta["skipped"]["count"] == 1
    grey = pack("folder", tmp_path / "grey", root=root, skip_bad=True, channels=1, resolution=16)
    assert grey.images.shape == (3, 1, 16, 16)


def test_folder_face_detection_cuts_face_crops(tmp_path):
    from skimage.data import astronaut

    (tmp_path / "photos").mkdir()
    Image.fromarray(astronaut()).save(tmp_path / "photos" / "astronaut.png")
    p = pack("folder", tmp_path / "out", root=tmp_path / "photos", detect_faces=True, min_face=60)
    assert len(p) >= 1
    x0, y0, x1, y1 = p.meta["crops"][0]["box"]
    assert 150 < (x0 + x1) / 2 < 250 and 50 < (y0 + y1) / 2 < 150  # the astronaut's face
    assert x1 - x0 >= 60


def test_mnist5k_is_real_balanced_and_split(tmp_path):
    p = pack("mnist5k", tmp_path / "all")
    assert p.images.shape == (5000, 1, 32, 32)
    assert np.bincount(p.labels).tolist() == [500] * 10
    assert len(set(p.labels[:20].tolist())) > 3  # shuffled, not sorted by class
    test = pack("mnist5k", tmp_path / "test", split="test")
    train = pack("mnist5k", tmp_path / "train", split="train")
    assert len(test) == 1000 and len(train) == 4000
    assert not set(test.source_index.tolist()) & set(train.source_index.tolist())


def test_digits(tmp_path):
    p = pack("digits", tmp_path / "d")
    assert p.images.shape == (1797, 1, 32, 32) and p.images.max() > 200


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


def test_repacking_is_byte_identical_and_refuses_to_overwrite(tmp_path):
    pack("digits", tmp_path / "a")
    pack("digits", tmp_path / "b")
    for name in ("images.npy", "labels.npy"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    meta_a, meta_b = (json.loads((tmp_path / d / "meta.json").read_text()) for d in "ab")
    assert meta_a["sha256"] == meta_b["sha256"]
    with pytest.raises(PackError, match="--overwrite"):
        pack_source("digits", tmp_path / "a", progress=False)
    pack("digits", tmp_path / "a", overwrite=True, resolution=16)
    assert load_pack(tmp_path / "a").images.shape[-1] == 16


def test_interrupted_pack_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    import dcgan_core.data.embedded as E

    real = E.convert_array
    calls = {"n": 0}

    def dies(*a, **k):
        calls["n"] += 1
        if calls["n"] > 100:
            raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(E, "convert_array", dies)
    with pytest.raises(KeyboardInterrupt):
        pack_source("digits", tmp_path / "d", progress=False)
    assert not (tmp_path / "d").exists()
    assert not any(tmp_path.iterdir())  # the temporary folder is gone too


def test_bad_source_and_arguments(tmp_path):
    with pytest.raises(ValueError, match="valid sources: " + ", ".join(SOURCES)):
        pack_source("imagenet", tmp_path / "x")
    with pytest.raises(ValueError, match="needs --root"):
        pack_source("svhn", tmp_path / "x")
    with pytest.raises(ValueError, match="power of two"):
        pack_source("digits", tmp_path / "x", resolution=30)
    with pytest.raises(PackError, match="pack SOURCE --out"):
        load_pack(tmp_path / "nothing")


def test_cli_pack_and_show(tmp_path):
    from dcgan_core.cli import main

    assert main(["pack", "synth-rooms", "--out", str(tmp_path / "r"), "--limit", "9", "--resolution", "32"]) == 0
    assert main(["show", str(tmp_path / "r"), "--out", str(tmp_path / "grid.png"), "--n", "9"]) == 0
    assert Image.open(tmp_path / "grid.png").size[0] > 200
    assert main(["pack", "nosuch", "--out", str(tmp_path / "x")]) == 2
