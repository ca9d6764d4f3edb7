import json
import subprocess

import pytest

from dcgan_core.utils import runinfo


def test_provenance_names_the_commit_versions_and_hardware():
    prov = runinfo.provenance("cpu")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=runinfo.PACKAGE_ROOT, capture_output=True, text=True)
    assert prov["git_commit"].removesuffix("-dirty") == head.stdout.strip()
    assert set(prov["versions"]) == {"python", "torch", "torchvision", "numpy", "sklearn"}
    assert prov["hardware"]["cpu_count"] >= 1 and "gpu" not in prov["hardware"]


def test_git_commit_outside_a_checkout_is_unknown(monkeypatch, tmp_path):
    monkeypatch.setattr(runinfo, "PACKAGE_ROOT", tmp_path)
    assert runinfo.git_commit() == "unknown"


def test_write_json_round_trips_numpy_and_paths(tmp_path):
    import numpy as np
    runinfo.write_json(tmp_path / "a" / "r.json", {"x": np.float32(1.5), "n": np.int64(3), "p": tmp_path})
    assert json.loads((tmp_path / "a" / "r.json").read_text()) == {"x": 1.5, "n": 3, "p": str(tmp_path)}


def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")

    def half(f):
        f.write("new, half")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        runinfo.atomic_write(path, half)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]
