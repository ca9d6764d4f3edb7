"""A pack drawn as an annotated grid from the command line (data/show.py)."""

from PIL import Image


def test_cli_pack_and_show(tmp_path):
    from dcgan_core.cli import main

    assert main(["pack", "synth-rooms", "--out", str(tmp_path / "r"), "--limit", "9", "--resolution", "32"]) == 0
    assert main(["show", str(tmp_path / "r"), "--out", str(tmp_path / "grid.png"), "--n", "9"]) == 0
    assert Image.open(tmp_path / "grid.png").size[0] > 200
    assert main(["pack", "nosuch", "--out", str(tmp_path / "x")]) == 2
