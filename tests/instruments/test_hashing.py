import json

import numpy as np
import pytest

from dcgan_core.cli import main
from dcgan_core.data.packed import load_pack
from dcgan_core.instruments import hashing
from dcgan_core.instruments.hashing import HasherConfig, SemanticHasher, duplicate_groups, keep_mask
from dcgan_core.studies import dedup
from tests.conftest import blocky_images, write_pack

FAST = HasherConfig(epochs=2, seed=0)


@pytest.fixture(scope="module")
def hasher(images):
    return SemanticHasher(FAST).fit(images, progress=False)


def test_codes_are_deterministic_for_a_seed(images, hasher):
    again = SemanticHasher(FAST).fit(images, progress=False)
    other = SemanticHasher(HasherConfig(epochs=2, seed=1)).fit(images, progress=False)
    codes = hasher.transform(images)
    assert codes.shape == (len(images), 16) and codes.dtype == np.uint8
    np.testing.assert_array_equal(codes, again.transform(images))
    assert (codes != other.transform(images)).any()


def test_codes_are_informative(images, hasher):
    """Distinct images get distinct codes and the bits are used (an untrained or collapsed code fails this)."""
    bits = np.unpackbits(hasher.transform(images), axis=1)
    assert len(duplicate_groups(hasher.transform(images))) == 0
    assert 0.1 < bits.mean() < 0.9


def test_exact_copies_always_collide_and_the_first_is_kept(images, hasher):
    x = np.concatenate([images[:1000], images[[3, 17, 17]]])
    groups = duplicate_groups(hasher.transform(x))
    assert [g.tolist() for g in groups] == [[3, 1000], [17, 1001, 1002]]
    keep = keep_mask(len(x), groups)
    assert keep[[3, 17]].all() and not keep[1000:].any() and keep.sum() == 1000


def _brute_force_groups(codes: np.ndarray, radius: int) -> list[list[int]]:
    """Connected components of 'within radius bits', by comparing every pair."""
    bits = np.unpackbits(codes, axis=1).astype(int)
    dist = (bits[:, None] != bits[None]).sum(2)
    label = np.arange(len(codes))
    for i, j in zip(*np.nonzero(dist <= radius)):  # union by relabelling (small n)
        label[label == label[j]] = label[i]
    return sorted((np.flatnonzero(label == g).tolist() for g in np.unique(label) if (label == g).sum() > 1),
                  key=lambda g: g[0])


@pytest.mark.parametrize("n_bytes, radius", [(16, 3), (16, 6), (8, 4)])  # 128-bit codes; 64-bit (pHash) codes
def test_radius_groups_equal_brute_force_with_chains(n_bytes, radius):
    rng = np.random.default_rng(n_bytes + radius)
    bits = np.unpackbits(rng.integers(0, 256, (150, n_bytes), dtype=np.uint8), axis=1)
    chain = [bits[0]]
    for _ in range(3):  # a chain: each link within `radius` of the previous, the ends further apart
        nxt = chain[-1].copy()
        nxt[rng.choice(8 * n_bytes, radius, replace=False)] ^= 1
        chain.append(nxt)
    near = bits[7].copy()
    near[rng.choice(8 * n_bytes, radius + 1, replace=False)] ^= 1  # just outside the radius
    codes = np.packbits(np.vstack([bits, chain[1:], near]), axis=1)
    got = [g.tolist() for g in duplicate_groups(codes, radius)]
    assert got == _brute_force_groups(codes, radius)
    assert [0, 150, 151, 152] in got and not any(7 in g for g in got)


def test_radius_groups_match_brute_force_hamming():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 256, (300, 16), dtype=np.uint8)
    bits = np.unpackbits(codes, axis=1)
    for src, flips in ((0, 1), (5, 3), (9, 5)):  # near codes at 1, 3 and 5 bits
        near = bits[src].copy()
        near[rng.choice(128, flips, replace=False)] ^= 1
        bits = np.vstack([bits, near])
    codes = np.packbits(bits, axis=1)
    assert duplicate_groups(codes, 0) == []
    assert [g.tolist() for g in duplicate_groups(codes, 3)] == [[0, 300], [5, 301]]
    assert [g.tolist() for g in duplicate_groups(codes, 5)] == [[0, 300], [5, 301], [9, 302]]


def test_a_transformed_copy_collides_at_the_reported_rate(images, hasher):
    clean = images[:1000]
    x, truth, kinds = dedup.plant(clean, per_transform=20, seed=0)
    codes = hasher.transform(x)
    found = dedup.group_pairs(duplicate_groups(codes), len(x))
    score = dedup.score_pairs(found, truth, kinds, len(x))
    same = (codes[truth[:, 0]] == codes[truth[:, 1]]).all(1)  # the direct count: source and copy share a code
    for k, name in enumerate(dedup.TRANSFORMS):
        assert score["recall"][name] == pytest.approx(same[kinds == k].mean())
    assert score["recall"]["exact copy"] == 1.0
    assert score["true_positives"] == same.sum() and score["false_positives"] == score["pairs"] - same.sum()


def test_to_input_downsamples_and_repeats_grey():
    x = np.zeros((2, 1, 64, 64), np.uint8)
    x[:, :, :32] = 255
    flat = hashing.to_input(x)
    assert flat.shape == (2, 3 * 32 * 32)
    img = flat.reshape(2, 3, 32, 32)
    assert float(img[0, :, :16].min()) == 1.0 and float(img[0, :, 16:].max()) == 0.0


def test_dedup_pack_keeps_distinct_images_and_maps_back(tmp_path, images):
    labels = np.arange(1003) % 7
    x = np.concatenate([images[:1000], images[[10, 20, 10]]])
    src = write_pack(tmp_path / "in", x, labels=labels)
    before = (src / "images.npy").read_bytes()
    report = hashing.dedup_pack(src, tmp_path / "out", config=FAST, progress=False)
    out = load_pack(tmp_path / "out")
    assert report["removed"] == 3 and len(out) == 1000
    np.testing.assert_array_equal(out.images, x[out.source_index])
    np.testing.assert_array_equal(out.labels, labels[out.source_index])
    assert not np.isin([1000, 1001, 1002], out.source_index).any()
    assert json.loads((tmp_path / "out" / "dedup.json").read_text())["group_sizes"] == [0, 0, 1, 1]
    assert (src / "images.npy").read_bytes() == before  # the input is never modified
    clean = hashing.dedup_pack(write_pack(tmp_path / "clean", images), tmp_path / "clean-out", config=FAST,
                             progress=False)
    assert clean["removed"] == 0
    np.testing.assert_array_equal(load_pack(tmp_path / "clean-out").source_index, np.arange(len(images)))


def test_cli_dedup_and_its_refusals(tmp_path, capsys, images):
    src = write_pack(tmp_path / "in", np.concatenate([images, images[:5]]))
    out = tmp_path / "out"
    assert main(["dedup", str(src), "--out", str(out), "--epochs", "2", "--no-progress"]) == 0
    assert "kept 1,200 of 1,205" in capsys.readouterr().out
    assert main(["dedup", str(src), "--out", str(out), "--epochs", "2"]) == 2  # exists, no --overwrite
    assert "--overwrite" in capsys.readouterr().err
    assert main(["dedup", str(tmp_path / "missing"), "--out", str(tmp_path / "o2")]) == 2
    assert "pack SOURCE --out" in capsys.readouterr().err
    assert main(["dedup", str(src), "--out", str(tmp_path / "o3"), "--radius", "-1"]) == 2
    assert "radius must be" in capsys.readouterr().err
    small = write_pack(tmp_path / "small", images[:50])
    assert main(["dedup", str(small), "--out", str(tmp_path / "o4")]) == 2
    assert "at least 1000" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["dedup", str(src), "--out", str(tmp_path / "o5"), "--nope"])
    capsys.readouterr()
    assert not any((tmp_path / f"o{i}").exists() for i in range(2, 6))


def test_dedup_refuses_an_output_inside_or_around_the_input(tmp_path, images):
    src = write_pack(tmp_path / "in", images)
    for out in (src, src / "sub", tmp_path):
        with pytest.raises(ValueError, match="is, holds or lies inside the input pack"):
            hashing.dedup_pack(src, out, config=FAST, overwrite=True, progress=False)
    assert load_pack(src).images.shape == images.shape


def test_an_interrupted_dedup_leaves_no_output(tmp_path, images, monkeypatch):
    src = write_pack(tmp_path / "in", images)

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(hashing, "write_json", interrupted)  # fails after the images were copied
    with pytest.raises(KeyboardInterrupt):
        hashing.dedup_pack(src, tmp_path / "out", config=FAST, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_bad_hasher_settings_are_refused():
    for bad in ({"threshold": "mean"}, {"dropout": 1.0}, {"bits": 100}, {"epochs": 0}, {"fit_on": 10}):
        with pytest.raises(ValueError):
            HasherConfig(**bad)
    with pytest.raises(ValueError, match="at least 1000"):
        SemanticHasher(FAST).fit(blocky_images(10), progress=False)
    with pytest.raises(RuntimeError, match="not fitted"):
        SemanticHasher(FAST).transform(blocky_images(2))


