import json
import subprocess
import sys
from dataclasses import asdict

import pytest

from dcgan_core.book import pipeline
from dcgan_core.cli import _parser, _train_config, main
from dcgan_core.core import runs
from dcgan_core.core.models import PRESETS
from dcgan_core.core.train import TrainConfig, save_config
from tests.conftest import two_mode_images, write_pack


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
    assert main(["train", "--data", "x", "--preset", "tiny16", "--out", "y"]) == 2  # neither --steps nor --epochs
    assert "--steps or --epochs" in capsys.readouterr().err
    assert main(["train", "--config", str(tmp_path / "none.json"), "--out", "y"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_train_config_file_rebuilds_every_profile_model_config(tmp_path):
    """What a torchrun launch hands its processes (`train --config RUN/launch.json`) is the config itself."""
    for profile in ("cpu", "smoke", "paper"):
        prof = pipeline.load_profile(profile)
        packs = {k: str(pipeline.pack_dir(profile, k)) for k in prof["packs"]}
        entries = list(prof["models"].values())
        for entry in [*entries, {**entries[0], "channels_last": False, "lr_d": 1e-3, "z_dist": "normal"}]:
            cfg = runs.entry_config(entry, packs[entry["data"]], "cpu", seed=2, progress=False)
            path = save_config(cfg, tmp_path / "launch.json")
            args = _parser().parse_args(["train", "--config", str(path), "--out", "runs/x"])
            assert asdict(_train_config(args)) == asdict(cfg)
    flags = _parser().parse_args(["train", "--config", str(path), "--out", "runs/x", "--steps", "7", "--seed", "5"])
    assert (_train_config(flags).steps, _train_config(flags).epochs, _train_config(flags).seed) == (7, None, 5)


def test_train_flags_take_their_defaults_from_the_dataclasses():
    args = _parser().parse_args(["train", "--data", "p", "--preset", "tiny16", "--out", "r", "--steps", "1"])
    cfg, defaults = _train_config(args), TrainConfig(data="p", preset="tiny16", steps=1)
    assert cfg.log_every == defaults.log_every and cfg.seed == defaults.seed and cfg.precision == defaults.precision
    assert cfg.batch_size == PRESETS["tiny16"].train.get("batch_size", defaults.batch_size)


def test_flags_beside_a_config_change_only_what_they_name(tmp_path):
    cfg = TrainConfig.for_preset("p", "tiny16", steps=3, model_overrides={"z_dist": "normal", "leak": 0.1})
    path = save_config(cfg, tmp_path / "c.json")
    args = _parser().parse_args(["train", "--config", str(path), "--out", "r", "--set", "leak=0.3", "--lr", "1e-3"])
    out = _train_config(args)
    assert out.model_overrides == {"z_dist": "normal", "leak": 0.3}  # --set changes its key, keeps the others
    assert (out.lr_g, out.lr_d, out.preset, out.steps) == (1e-3, 1e-3, "tiny16", 3)
    with pytest.raises(ValueError, match="--preset cannot change beside --config"):
        _train_config(_parser().parse_args(["train", "--config", str(path), "--out", "r", "--preset", "cpu32"]))


def test_a_config_file_that_is_not_a_config_is_named(tmp_path, capsys):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    for name, message in (("bad.json", "is not JSON"), ("list.json", "holds no TrainConfig record")):
        assert main(["train", "--config", str(tmp_path / name), "--out", str(tmp_path / "r")]) == 2
        assert message in capsys.readouterr().err and not (tmp_path / "r").exists()  # nothing written


def test_a_guideline_variant_is_a_train_command():
    """Sec. 3-4: each guideline undone by a flag or a --set of the same train command (no other model code)."""
    args = _parser().parse_args(["train", "--data", "p", "--preset", "tiny16", "--out", "r", "--steps", "1",
                                 "--beta1", "0.9", "--set", "batch_norm=none", "d_downsample=pool", "hidden_fc=64"])
    cfg = _train_config(args)
    assert cfg.beta1 == 0.9 and cfg.model_overrides == {"batch_norm": "none", "d_downsample": "pool", "hidden_fc": 64}
    assert _train_config(_parser().parse_args(["train", "--data", "p", "--preset", "tiny16", "--out", "r",
                                               "--steps", "1"])).beta1 == TrainConfig.beta1  # Sec. 4: 0.5
