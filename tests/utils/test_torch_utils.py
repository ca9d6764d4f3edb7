import numpy as np
import pytest
import torch


def test_save_grid_writes_what_torchvision_writes(tmp_path):
    from PIL import Image
    from torchvision.utils import save_image

    from dcgan_core.utils.torch_utils import save_grid
    for shape, nrow in (((10, 3, 5, 7), 4), ((3, 1, 6, 6), 8), ((16, 3, 4, 4), 8), ((1, 1, 5, 5), 8)):
        x = torch.rand(*shape) * 1.2 - 0.1  # a few values outside [0, 1] are clamped the same way
        save_grid(x, tmp_path / "ours.png", nrow=nrow)
        save_image(x, tmp_path / "tv.png", nrow=nrow)
        ours, tv = (np.asarray(Image.open(tmp_path / f)) for f in ("ours.png", "tv.png"))
        assert ours.shape == tv.shape and np.array_equal(ours, tv), shape
    for bad, kw in ((torch.rand(3, 4, 4), {}), (torch.rand(0, 3, 4, 4), {}), (torch.rand(2, 2, 4, 4), {}),
                    (torch.rand(2, 3, 4, 4), {"nrow": 0}), (torch.rand(2, 3, 4, 4), {"path": tmp_path / "g.jpg"})):
        with pytest.raises(ValueError, match="a grid"):
            save_grid(bad, kw.pop("path", tmp_path / "g.png"), **kw)




def test_bf16_is_emulated_on_a_cpu_without_native_units_only(monkeypatch):
    import torch

    from dcgan_core.utils.torch_utils import bf16_emulated
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert bf16_emulated("cpu") and not bf16_emulated("cuda")  # CUDA has its own bf16 units
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert not bf16_emulated("cpu")
