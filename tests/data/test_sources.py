"""Every source packs from small files written in its official format; bad input fails clearly."""

import io
import pickle

import numpy as np
import pytest
from PIL import Image

from dcgan_core.data.images import BadImage
from dcgan_core.data.packed import PackError, load_pack
from dcgan_core.data.sources import SOURCES, pack_source
from tests.conftest import pack


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


def test_svhn_val_and_fit_split_the_training_file(tmp_path, rng, monkeypatch):
    from scipy.io import savemat

    from dcgan_core.data import sources

    X = rng.integers(0, 256, (32, 32, 3, 9), dtype=np.uint8)
    savemat(tmp_path / "train_32x32.mat", {"X": X, "y": np.arange(1, 10, dtype=np.uint8)[:, None]})
    monkeypatch.setattr(sources, "SVHN_VAL", 3)
    val = pack("svhn", tmp_path / "val", root=tmp_path, split="val")
    fit = pack("svhn", tmp_path / "fit", root=tmp_path, split="fit")
    assert len(val) == 3 and len(fit) == 6 and val.meta["split"] == "val"
    assert sorted(val.labels.tolist() + fit.labels.tolist()) == sorted(np.arange(1, 10) % 10)  # disjoint, complete
    with pytest.raises(ValueError, match="train, test, extra, val or fit"):
        pack("svhn", tmp_path / "x", root=tmp_path, split="valid")


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


def test_bad_source_and_arguments(tmp_path):
    with pytest.raises(ValueError, match="valid sources: " + ", ".join(SOURCES)):
        pack_source("imagenet", tmp_path / "x")
    with pytest.raises(ValueError, match="needs --root"):
        pack_source("svhn", tmp_path / "x")
    with pytest.raises(ValueError, match="power of two"):
        pack_source("digits", tmp_path / "x", resolution=30)
    with pytest.raises(PackError, match="pack SOURCE --out"):
        load_pack(tmp_path / "nothing")
    # an option the source does not take is refused, never recorded
    with pytest.raises(ValueError, match="source cifar10 does not take --crop; its options: --root, --split"):
        pack_source("cifar10", tmp_path / "x", root=str(tmp_path), crop="common108")
    with pytest.raises(ValueError, match="source synth-rooms does not take --split"):
        pack_source("synth-rooms", tmp_path / "x", split="train")
    assert not (tmp_path / "x").exists()
