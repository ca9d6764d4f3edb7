"""Figure helpers: images drawn at reading size (>= 3x a 32-px sample), curves with their references."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dcgan_core import plots  # noqa: E402
from dcgan_core.core.train import TrainConfig, train  # noqa: E402


@pytest.fixture
def run(two_mode_pack, tmp_path):
    cfg = TrainConfig.for_preset(str(two_mode_pack), "tiny16", steps=8, batch_size=32, progress=False,
                                 snapshot_epochs=(1,))
    train(cfg, tmp_path / "r")
    return tmp_path / "r"


def test_sample_figures_show_each_image_at_3x(run):
    column = 780  # px: the book's text column at a 1400-px window; a wider figure would be scaled down
    for fig in (plots.final_samples(run, "two modes"), plots.snapshot_grids({"two modes": run})):
        width = fig.get_size_inches()[0] * fig.dpi
        axes_width = max(ax.get_position().width for ax in fig.axes) * width
        assert width <= column and axes_width / 6 >= 96  # six images per row, each >= 3x a 32-px sample


def test_quality_curve_has_a_panel_per_model_and_the_ladder():
    q = {"fd": 5.0}
    evals = {("rooms", s): {"snapshots": {"a": {**q, "images_seen": 100}, "b": {**q, "images_seen": 200}}}
             for s in (0, 1)}
    ladders = {"rooms": {"real (held-out floor)": {"fd": 0.3}, "real, blurred sigma 1": {"fd": 60.0}}}
    fig = plots.quality_curve(evals, ladders)
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and len(ax.lines) == 2 + 2  # a line per seed, a dashed line per reference
    assert np.allclose(ax.lines[0].get_xdata(), [100, 200])


def test_a_note_figure_keeps_its_width_when_cropped():
    import io

    from PIL import Image

    from dcgan_core import plots
    fig = plots.note_figure("not testable")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")  # how the book crops figures
    plots.plt.close(fig)
    assert Image.open(buf).size[0] >= 0.95 * 7.5 * 100  # not shrunk to the text: at least the text column


def test_the_guideline_figures_show_every_model_and_arm():
    failed = {("digits", "DCGAN"): [False] * 5, ("digits", "no tanh"): [True, False, False, False, False],
              ("rooms", "DCGAN"): [False] * 5}
    fig = plots.failure_rates(failed)
    assert len(fig.axes) == 2 and [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["DCGAN", "no tanh"]
    plots.plt.close(fig)
    curves = {("digits", "DCGAN"): [[(100, 9.0), (200, 5.0)], [(100, 8.0), (200, 4.0)]],
              ("digits", "no tanh"): [[(100, 12.0)]]}  # a run that stopped early ends where it stopped
    fig = plots.quality_over_images(curves)
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    assert list(lines["DCGAN"].get_ydata()) == [8.5, 4.5] and list(lines["no tanh"].get_xdata()) == [100]
    plots.plt.close(fig)
    grey = np.zeros((16, 1, 8, 8), np.uint8)
    fig = plots.failed_beside_stable({"digits": {"stable": ("DCGAN", grey)}})
    assert "no failed run" in " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    plots.plt.close(fig)
