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


def test_train_command_rebuilds_every_profile_model_config():
    from dataclasses import asdict

    from dcgan_core import pipeline
    from dcgan_core.cli import _parser, _train_config, train_args
    for profile in ("cpu", "smoke", "paper"):
        prof = pipeline.load_profile(profile)
        packs = {k: str(pipeline.pack_dir(profile, k)) for k in prof["packs"]}
        specs = list(prof["models"].values())
        for spec in [*specs, {**specs[0], "channels_last": False}]:  # the memory layout both ways
            cfg = pipeline.train_config({**spec, "seed": 2}, packs, "cpu", progress=False)
            args = train_args(cfg, "runs/x")
            assert asdict(_train_config(_parser().parse_args(["train", *args]))) == asdict(cfg)
    odd = pipeline.train_config({"data": "x", "preset": "tiny16", "steps": 3}, {"x": "p"}, "cpu")
    odd.lr_d = 1e-3
    with pytest.raises(ValueError, match="one --lr for both nets"):
        train_args(odd, "runs/x")
