import json
import subprocess
import sys

import pytest

from dcgan_core.cli import main

from .conftest import two_mode_images, write_pack


@pytest.mark.parametrize("cmd", ["pack", "show", "fetch", "dedup", "train", "sample", "bench", "bench-dedup"])
def test_help_of_every_command(cmd):
    out = subprocess.run([sys.executable, "-m", "dcgan_core", cmd, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "usage:" in out.stdout


def test_train_sample_and_bench(tmp_path, capsys):
    pack = write_pack(tmp_path / "two", two_mode_images(64))
    run = tmp_path / "run"
    assert main(["train", "--data", str(pack), "--preset", "tiny16", "--out", str(run), "--steps", "3",
                 "--batch-size", "16", "--no-progress", "--set", "z_dist=normal"]) == 0
    assert json.loads((run / "config.json").read_text())["model"]["z_dist"] == "normal"
    assert main(["sample", "--run", str(run), "--n", "4", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").is_file()
    out = tmp_path / "bench.jsonl"
    assert main(["bench", "--preset", "tiny16", "--batch-size", "8", "--steps", "1", "--warmup", "0",
                 "--append-to", str(out)]) == 0
    line = json.loads(out.read_text())
    assert line["preset"] == "tiny16" and line["images_per_s"] > 0
    capsys.readouterr()


def test_bad_arguments_exit_2_with_a_message(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "missing"), "--preset", "tiny16", "--out", str(tmp_path / "r"),
                 "--steps", "1"]) == 2
    assert "pack SOURCE --out" in capsys.readouterr().err
    assert main(["bench", "--preset", "nope"]) == 2
    assert "valid presets" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--data", "x", "--preset", "tiny16", "--out", "y"])  # neither --steps nor --epochs
