"""Reusable figure helpers for the notebooks: image grids, training curves, distance histograms."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from dcgan_core.core.checkpoint import load_run, snapshot_label, snapshot_names
from dcgan_core.instruments.reference import generate_uint8
from dcgan_core.utils.torch_utils import eval_mode, tile
from dcgan_core.verdicts.rules import clopper_pearson, mean_ci

TREND_SQUEEZE = 4  # a control's reference that would widen a trend panel past this many times the statistic's own
# range (its means and thresholds) is named at the panel's edge instead of drawn, which would flatten the curve
SAMPLE_DPI = 120  # sample figures: 1 inch per image is 120 px, so a 32-px sample shows at >= 3x in the book


def glue_figure(name: str, fig) -> None:
    """Hand a figure to the book (myst-nb glue, numbered by a {glue:figure} directive) and close it, so the
    notebook shows it once, where the directive puts it."""
    # imported here: myst_nb exists only inside a jupyter-book / notebook kernel
    from myst_nb import glue

    glue(name, fig, display=False)
    plt.close(fig)


def to_hwc(images) -> np.ndarray:
    """uint8 (N, C, H, W) or float [-1, 1] -> float (N, H, W, C) in [0, 1] for imshow."""
    x = torch.as_tensor(np.asarray(images)) if not isinstance(images, torch.Tensor) else images
    x = x.float() / 255 if x.dtype == torch.uint8 else (x.float() + 1) / 2
    x = x.clamp(0, 1).permute(0, 2, 3, 1).numpy()
    return np.repeat(x, 3, -1) if x.shape[-1] == 1 else x


def grid(images, nrow: int, pad: int = 1) -> np.ndarray:
    """Tile images into one (H, W, 3) array on white, `nrow` to a row (`utils.torch_utils.tile`)."""
    x = torch.from_numpy(to_hwc(images)).permute(0, 3, 1, 2)
    if len(x) < nrow:  # fewer images than a row: the grid stays nrow wide, blank on the right
        x = torch.cat([x, torch.ones(nrow - len(x), *x.shape[1:])])
    return tile(x, nrow, pad, fill=1.0).permute(1, 2, 0).numpy()


def show_grid(images, nrow: int, title: str = "", ax=None, scale: float = 0.6):
    """A figure (or axis) showing an image grid."""
    g = grid(images, nrow)
    if ax is None:
        _, ax = plt.subplots(figsize=(scale * nrow, scale * g.shape[0] / g.shape[1] * nrow))
    ax.imshow(g, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax.figure


def read_metrics(run: str | Path) -> dict[str, np.ndarray]:
    """metrics.jsonl as column arrays (None -> nan)."""
    rows = [json.loads(ln) for ln in (Path(run) / "metrics.jsonl").read_text().splitlines() if ln]
    return {k: np.array([np.nan if r.get(k) is None else r[k] for r in rows], float) for k in rows[0]}


def training_curves(runs: dict[str, Path]):
    """Loss and D output curves of several runs, side by side."""
    fig, axes = plt.subplots(len(runs), 2, figsize=(9, 2.6 * len(runs)), squeeze=False)
    for (name, run), (a, b) in zip(runs.items(), axes):
        m = read_metrics(run)
        a.plot(m["epoch"], m["loss_D"], label="loss D")
        a.plot(m["epoch"], m["loss_G"], label="loss G")
        b.plot(m["epoch"], m["D(x)"], label="D(x)")
        b.plot(m["epoch"], m["D(G(z))"], label="D(G(z))")
        for ax, t in ((a, "losses"), (b, "discriminator outputs")):
            ax.set_title(f"{name}: {t}", fontsize=9)
            ax.set_xlabel("epoch")
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def distance_histograms(mem: dict, title: str, ax=None):
    """Generated-to-train vs held-out-to-train nearest-neighbour distances."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3))
    bins = np.histogram_bin_edges(np.r_[mem["gen_to_train"], mem["heldout_to_train"]], 40)
    ax.hist(mem["heldout_to_train"], bins, alpha=0.6, density=True, label="held-out real -> train")
    ax.hist(mem["gen_to_train"], bins, alpha=0.6, density=True, label="generated -> train")
    ax.axvline(mem["near_copy_threshold"], color="k", ls=":", lw=1, label="1st pct. of held-out")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("nearest-neighbour distance")
    ax.legend(fontsize=7)
    return ax.figure


def snapshot_grids(runs: dict[str, Path], n: int = 6):
    """For each run, the same fixed z decoded by each snapshot (after epoch 1, 5, ..., final): Fig. 2/3.
    n images per row at 1 inch (SAMPLE_DPI px) each: 6 fit the book's text column at 3.5x a 32-px sample."""

    rows = [(name, ck) for name, run in runs.items() for ck in snapshot_names(run)]
    fig, axes = plt.subplots(len(rows), 1, figsize=(n, 1.25 * len(rows)), squeeze=False, dpi=SAMPLE_DPI)
    for ax, (name, ck) in zip(axes[:, 0], rows):
        G, _, state = load_run(runs[name], "cpu", ck)
        z = torch.load(Path(runs[name]) / "fixed_z.pt", weights_only=True)[:n]
        with torch.no_grad(), eval_mode(G):
            x = G(z)
        label = snapshot_label(ck)
        show_grid(x, n, ax=ax)
        ax.set_title(f"{name}: {label} (step {state['step']})", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def final_samples(run: str | Path, title: str, n: int = 24, ncol: int = 6, seed: int = 0):
    """n samples of a run's final generator, ncol per row at 1 inch (SAMPLE_DPI px) each: 6 fit the book's text
    column at 3.5x a 32-px image."""

    G, _, state = load_run(run, "cpu")
    fig, ax = plt.subplots(figsize=(ncol, n / ncol + 0.3), dpi=SAMPLE_DPI)
    show_grid(generate_uint8(G, n, seed), ncol, ax=ax, title=f"{title}: step {state['step']}")
    fig.subplots_adjust(left=0.005, right=0.995, bottom=0.005, top=1 - 0.3 / (n / ncol + 0.3))
    return fig


def nearest_neighbour_panels(items: dict[str, tuple], space: str = "pixel", per_row: int = 2, inch: float = 0.8):
    """Per name (one panel under the other), each sample followed by its nearest training images, per_row such
    groups to a row at `inch` x SAMPLE_DPI px per image. items: name -> (samples, neighbours (n, k, C, H, W)), the
    neighbours found by the copy search (`metrics.CopySearch`) in `space`."""
    first = next(iter(items.values()))[1]
    n, k = first.shape[:2]
    rows = -(-n // per_row)
    fig, axes = plt.subplots(len(items), 1, figsize=(per_row * (k + 1) * inch, len(items) * (rows * inch + 0.35)),
                             dpi=SAMPLE_DPI, squeeze=False)
    for ax, (name, (samples, neighbours)) in zip(axes[:, 0], items.items()):
        s = np.asarray(samples[:len(neighbours)])
        tiles = np.concatenate([np.concatenate([s[i:i + 1], neighbours[i]]) for i in range(len(s))])
        show_grid(tiles, per_row * (k + 1), title=f"{name} ({space}): sample, then its {k} nearest training images",
                  ax=ax)
        side = s.shape[-1] + 1  # show_grid's 1-px padding
        for g in range(1, per_row):  # a rule between the groups of a row
            ax.axvline(g * (k + 1) * side + 0.5, color="k", lw=2)
    fig.subplots_adjust(left=0.005, right=0.995, bottom=0.005, top=1 - 0.3 / fig.get_figheight(), hspace=0.25)
    return fig


def walk_figure(frames, title: str = "", inch: float = 0.8):
    """Rows = walks between consecutive anchors, columns = interpolation steps (Fig. 4 layout), `inch` x SAMPLE_DPI
    px per frame: meant for the page's full width (the chapter wraps it in a full-width container)."""
    f = torch.as_tensor(frames)
    rows, cols = f.shape[:2]
    fig, ax = plt.subplots(figsize=(cols * inch, rows * inch + (0.3 if title else 0.05)), dpi=SAMPLE_DPI)
    show_grid(f.flatten(0, 1), cols, title=title, ax=ax)
    fig.subplots_adjust(0.005, 0.005, 0.995, 1 - (0.3 if title else 0.05) / (rows * inch + 0.3))
    return fig


def step_profiles(study: dict, keys: list[str]):
    """Mean image change per step along the walks, per walk kind."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for key in keys:
        prof = np.concatenate(study["profiles"][key])
        ax.plot(np.arange(1, prof.shape[1] + 1), (prof / prof.mean(1, keepdims=True)).mean(0), marker="o", label=key)
    ax.set_xlabel("interpolation step")
    ax.set_ylabel("change / mean change of its walk")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def quality_curve(evals: dict, ladders: dict):
    """FD in the judge's space against images seen, one panel per model (a line per seed), with the ladder
    of degraded real images as horizontal references: where on the blur scale the samples sit."""
    names = list(dict.fromkeys(n for n, _ in evals))
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for (n, seed), ev in evals.items():
            if n == name:
                snaps = list(ev["snapshots"].values())
                ax.plot([q["images_seen"] for q in snaps], [q["fd"] for q in snaps], marker="o", label=f"seed {seed}")
        for i, (ref, q) in enumerate(ladders[name].items()):
            ax.axhline(q["fd"], ls="--", lw=0.8, color=f"C{i + 4}", label=ref)
        _fd_axis(ax, name, "FD (judge space)")
    fig.tight_layout()
    return fig


def _fd_axis(ax, title: str, ylabel: str) -> None:
    """An FD-against-images-seen panel's scale, labels and legend."""
    ax.set_yscale("log")
    ax.set_xlabel("images seen")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6)


def pair_grid(images, pairs, flagged, ncol: int = 8, inch: float = 0.5):
    """Image pairs (joined by a 1-px seam), ncol pairs per row with a gap between pairs, `inch` (x SAMPLE_DPI px)
    per image; flagged pairs framed in red (the chapter flags collisions that are not planted copies)."""

    pairs = np.asarray(pairs).reshape(-1, 2)
    imgs = np.asarray(images)
    seam = np.full((len(pairs), imgs.shape[1], imgs.shape[2], 1), 255, np.uint8)
    joined = np.concatenate([imgs[pairs[:, 0]], seam, imgs[pairs[:, 1]]], axis=3)
    pad = 6
    g = grid(joined, ncol, pad=pad)
    h, w = joined.shape[2:]
    fig, ax = plt.subplots(figsize=(2 * ncol * inch, 2 * ncol * inch * g.shape[0] / g.shape[1]), dpi=SAMPLE_DPI)
    ax.imshow(g, interpolation="nearest")
    for k in np.flatnonzero(flagged):
        r, c = divmod(int(k), ncol)
        ax.add_patch(Rectangle((pad + c * (w + pad) - 2.5, pad + r * (h + pad) - 2.5), w + 4, h + 4, fill=False,
                               edgecolor="red", linewidth=2))
    ax.set_axis_off()
    fig.subplots_adjust(0, 0, 1, 1)
    return fig


def planted_examples(images, pairs, kinds, names: list[str], per_kind: int = 4):
    """Per transformation (rows), `per_kind` planted pairs: each clean image beside its transformed copy."""
    pairs, kinds = np.asarray(pairs), np.asarray(kinds)
    rows = [pairs[kinds == k][:per_kind] for k in range(len(names))]
    fig, axes = plt.subplots(len(names), 1, figsize=(2 * per_kind * 0.8, len(names) * 1.05), dpi=SAMPLE_DPI)
    for ax, name, row in zip(np.atleast_1d(axes), names, rows):
        show_grid(np.asarray(images)[row.ravel()], 2 * per_kind, title=name, ax=ax)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.96, hspace=0.35)
    return fig


def saliency_panel(columns: dict[str, list[tuple[str, np.ndarray, np.ndarray]]], inch: float = 1.0):
    """Fig. 5 layout, one panel under the other (e.g. trained D, random D), one row per feature: each of its most
    responsive images followed by its saliency energy (absolute attribution summed over colours, white = the map's
    largest value)."""
    panels = list(columns.items())
    n_rows, n_img = len(panels[0][1]), len(panels[0][1][0][1])
    fig, axes = plt.subplots(len(panels), 1, figsize=(2 * n_img * inch + 1.2, len(panels) * (n_rows * inch + 0.4)),
                             dpi=SAMPLE_DPI, squeeze=False)
    for ax, (title, rows) in zip(axes[:, 0], panels):
        tiles = []
        for _, imgs, maps in rows:
            e = torch.as_tensor(maps).abs().sum(1, keepdim=True)
            e = (e / e.amax((2, 3), keepdim=True).clamp_min(1e-12)).expand(-1, 3, -1, -1) * 2 - 1
            x = torch.as_tensor(np.asarray(imgs)).float() / 127.5 - 1
            tiles += [t for pair in zip(x, e) for t in pair]
        show_grid(torch.stack(tiles), 2 * n_img, title=title, ax=ax)
        h = ax.get_ylim()[0] / n_rows
        for r, (label, _, _) in enumerate(rows):
            ax.text(-2, (r + 0.5) * h, label, ha="right", va="center", fontsize=8)
    fig.subplots_adjust(left=1.2 / (2 * n_img * inch + 1.2), right=0.99, bottom=0.01, top=0.97, hspace=0.12)
    return fig


def intervention_rows(rows: dict[str, np.ndarray], inch: float = 1.0):
    """One row of images per condition (same z per column), titled, at `inch` x SAMPLE_DPI px per image."""
    n = len(next(iter(rows.values())))
    fig, axes = plt.subplots(len(rows), 1, figsize=(n * inch, len(rows) * (inch + 0.3)), dpi=SAMPLE_DPI, squeeze=False)
    for ax, (title, imgs) in zip(axes[:, 0], rows.items()):
        show_grid(imgs, n, title=title, ax=ax)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.95, hspace=0.3)
    return fig


def arithmetic_figure(example: dict, text: str, inch: float = 0.8):
    """Fig. 7 layout: the k exemplars of A, B and C in columns, the decoded A - B + C with its 8 jittered copies
    (3x3, centre = Y), and the same arithmetic in pixel space. `text` is "a - b + c = target"."""

    names = re.split(r" - | \+ | = ", text)
    k = len(example["a"])
    fig = plt.figure(figsize=(7.6 * inch + 0.4, max(k, 3) * inch + 0.7), dpi=SAMPLE_DPI)
    spec = fig.add_gridspec(1, 5, width_ratios=[1, 1, 1, 3, 1], wspace=0.15, left=0.01, right=0.99, bottom=0.02,
                            top=1 - 0.65 / (max(k, 3) * inch + 0.7))
    panels = [(example["a"], 1, names[0]), (example["b"], 1, f"- {names[1]}"), (example["c"], 1, f"+ {names[2]}"),
              (example["result"], 3, f"= Y in z: {names[3]}"), (example["pixel"], 1, "pixel space")]
    for i, (imgs, ncol, title) in enumerate(panels):
        ax = fig.add_subplot(spec[0, i])
        show_grid(imgs, ncol, ax=ax)
        ax.set_title("\n".join(textwrap.wrap(title, 18 * ncol)), fontsize=7)  # two lines, not overlapping
        ax.set_anchor("N")
    return fig


def yaw_sweep(turns: dict, positions):
    """The judge's yaw along the turn vector's lines and along random directions of the same norm (Fig. 8 made
    measurable): mean over lines, one line per seed."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    for name, colour in (("turn", "C0"), ("random direction", "C7")):
        for i, st in enumerate(turns.values()):
            y = st[name]["yaw"]
            ax.plot(positions, y.mean(0), color=colour, alpha=0.8, label=name if i == 0 else None)
            ax.fill_between(positions, y.mean(0) - y.std(0), y.mean(0) + y.std(0), color=colour, alpha=0.08)
    ax.set_xlabel("position t along the line (z0 + t x vector)")
    ax.set_ylabel("judge's yaw (< 0: looks left)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def k_effect(success: dict[str, dict[int, list[float]]]):
    """Success share against exemplars per concept: {equation: {k: [per seed]}}, one panel per equation."""
    fig, axes = plt.subplots(1, len(success), figsize=(3.4 * len(success), 3), squeeze=False)
    for ax, (name, by_k) in zip(axes[0], success.items()):
        ks = sorted(by_k)
        vals = np.array([by_k[k] for k in ks])  # (k, seeds)
        for j in range(vals.shape[1]):
            ax.plot(ks, vals[:, j], marker="o", alpha=0.6, label=f"seed {j}")
        ax.set_xscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_ylim(0, 1)
        ax.set_xlabel("exemplars per concept (k)")
        ax.set_title(name, fontsize=9)
    axes[0, 0].set_ylabel("share of outputs read as the target")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def failure_rates(failed: dict[tuple[str, str], list[bool]]):
    """Sec. 3-4: per (model, arm), the share of runs that failed with its exact 95% interval, one panel per model
    (a dot plot: the arms down the side, the DCGAN's rate as a dashed line)."""
    models = list(dict.fromkeys(m for m, _ in failed))
    arms = list(dict.fromkeys(a for _, a in failed))
    fig, axes = plt.subplots(1, len(models), figsize=(max(7.5, 3.6 * len(models) + 1.6), 0.32 * len(arms) + 1.2),
                             squeeze=False, sharey=True)
    for ax, model in zip(axes[0], models):
        for y, arm in enumerate(arms):
            if (model, arm) not in failed:
                continue
            runs = failed[(model, arm)]
            k, n = sum(runs), len(runs)
            lo, hi = clopper_pearson(k, n)
            ax.plot([lo, hi], [y, y], color="0.6", lw=2)
            ax.plot(k / n, y, "o", color="#cf222e" if k else "#1a7f37")
        if (model, "DCGAN") in failed:
            ax.axvline(np.mean(failed[(model, "DCGAN")]), color="k", ls="--", lw=0.8)
        ax.set_xlim(-0.05, 1.05)
        ax.set_xlabel("share of runs that failed")
        ax.set_title(model, fontsize=9)
    axes[0, 0].set_yticks(range(len(arms)), arms, fontsize=8)
    axes[0, 0].invert_yaxis()
    fig.tight_layout()
    return fig


def quality_over_images(curves: dict[tuple[str, str], list[list[tuple[int, float]]]]):
    """Sec. 3-4: FD against images seen, per (model, arm) the median over seeds at each snapshot (runs that
    stopped early end where they stopped), one panel per model, log scale."""
    models = list(dict.fromkeys(m for m, _ in curves))
    fig, axes = plt.subplots(1, len(models), figsize=(max(7.5, 4.4 * len(models)), 3.6), squeeze=False)
    for ax, model in zip(axes[0], models):
        for i, (arm, runs) in enumerate((a, v) for (m, a), v in curves.items() if m == model):
            by_seen: dict[int, list[float]] = {}
            for run in runs:
                for seen, fd in run:
                    by_seen.setdefault(seen, []).append(fd)
            xs = sorted(by_seen)
            if xs:
                ax.plot(xs, [np.median(by_seen[x]) for x in xs], marker=".", lw=2.2 if arm == "DCGAN" else 1,
                        color="k" if arm == "DCGAN" else plt.cm.tab20(i % 20), label=arm)  # 13 arms: 20 hues
        _fd_axis(ax, model, "FD (judge space), median over seeds")
    fig.tight_layout()
    return fig


def failed_beside_stable(pairs: dict[str, dict[str, tuple[str, np.ndarray]]], n: int = 16, ncol: int = 8,
                         inch: float = 0.45):
    """Per model, the final samples of a stable DCGAN run beside those of a failed run ({model: {"stable" |
    "failed": (label, uint8 samples)}}); a model without a failed run says so."""
    rows = [(m, kind) for m in pairs for kind in ("stable", "failed")]
    fig, axes = plt.subplots(len(pairs), 2, figsize=(2 * ncol * inch + 0.4, (n // ncol) * inch * len(pairs) + 0.8),
                             squeeze=False, dpi=SAMPLE_DPI)
    for (model, kind), ax in zip(rows, axes.ravel()):
        label, samples = pairs[model].get(kind, (None, None))
        if samples is None:
            ax.text(0.5, 0.5, f"{model}: no {kind} run", ha="center", va="center", fontsize=8)
            ax.set_axis_off()
            continue
        show_grid(samples[:n], ncol, f"{model}: {label}", ax=ax)
    fig.tight_layout()
    return framed(fig)  # a model without a failed (or stable) run leaves a blank panel


def note_figure(text: str):
    """A figure that says why there is nothing to show (a claim that was not testable on this profile)."""

    fig, ax = plt.subplots(figsize=(7.5, 0.8))
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9, wrap=True)
    ax.set_axis_off()
    return framed(fig)


def framed(fig):
    """A light frame over the whole figure: the book crops a figure to what is drawn, and a bare line of text or a
    blank panel would otherwise shrink it below the text column's width."""
    fig.patches.append(Rectangle((0.005, 0.02), 0.99, 0.96, transform=fig.transFigure, fill=False,
                                 edgecolor="#d0d7de"))
    return fig


VERDICT_COLOURS = {"reproduced": "#1a7f37", "partly": "#bf8700", "borderline": "#0969da", "not reproduced": "#cf222e",
                   "inconclusive": "#6e7781", "single run": "#8250df", "not testable at this scale": "#57606a"}


def forest(claims: list[dict]):
    """The results page's overview: per claim with an effect, its value per seed (small dots), their mean with a
    95% t interval (bar, coloured by verdict), the rule's threshold (dashed) with its passing side shaded, and each
    control's mean of the same statistic (open diamond: black negative, green positive; a control read by another
    statistic has none). Each row has its own scale: the units differ between claims."""

    rows = [c for c in claims if c.get("effect")]
    fig, axes = plt.subplots(len(rows), 1, figsize=(9, 0.62 * len(rows) + 0.6), squeeze=False, dpi=100)
    for ax, c in zip(axes[:, 0], rows):
        e = c["effect"]
        v = np.asarray(e["per_seed"], float)
        m, lo, hi = mean_ci(v)
        levels = [(_control_level(x, e["name"]), x.get("kind", "negative")) for x in c.get("controls", [])]
        levels = [(level, kind) for level, kind in levels if np.isfinite(level)]  # the claim's statistic only
        ctl = [level for level, _ in levels]
        pts = np.concatenate([v, [lo, hi, e["threshold"]], ctl])
        span = max(pts.max() - pts.min(), 1e-9)
        left, right = pts.min() - 0.15 * span, pts.max() + 0.15 * span
        t = e["threshold"]
        ax.axvspan(left if e["better"] == "lower" else t, t if e["better"] == "lower" else right,
                   color="#dafbe1", zorder=0)
        ax.axvline(t, color="k", ls="--", lw=0.8)
        colour = VERDICT_COLOURS[c["verdict"]]
        ax.plot(v, np.zeros_like(v), "o", ms=3, color=colour, alpha=0.5)
        ax.errorbar([m], [0], xerr=[[m - lo], [hi - m]], fmt="o", ms=6, color=colour, capsize=3)
        for level, kind in levels:
            ax.plot([level], [0], "D", ms=6, mfc="none", mec="#1a7f37" if kind == "positive" else "k")
        ax.set_xlim(left, right)
        ax.set_yticks([])
        ax.tick_params(axis="x", labelsize=7, pad=1)
        ax.set_title(f"{c['section']} {c['claim'][:70]}: {c['verdict']} ({e['name']})", fontsize=8, loc="left",
                     color=colour, pad=2)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
    fig.subplots_adjust(left=0.02, right=0.98, top=1 - 0.3 / fig.get_figheight(), bottom=0.3 / fig.get_figheight(),
                        hspace=1.6)
    return fig


def trends(claims: list[dict], ncol: int = 3):
    """The results page's evidence against compute (issue 27): per claim with a trend, the deciding statistic's
    seed mean at each snapshot against images seen (points coloured by the rule's reading there), the threshold
    (dashed) with its passing side shaded (where the rule decides by its own test: the reference it compares
    against at each snapshot, dashed, unshaded), and the controls' final means as references (positive: green
    dotted, negative: grey dotted; one that would squeeze the curve, past TREND_SQUEEZE, is named at the panel's
    edge instead). Small multiples, each on its own scale."""
    rows = [c for c in claims if c.get("trend")]
    nrow = max(1, -(-len(rows) // ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.1 * ncol, 2.2 * nrow), squeeze=False, dpi=100)
    for ax in axes.flat[len(rows):]:
        ax.axis("off")
    for ax, c in zip(axes.flat, rows):
        t = c["trend"]
        x, y = np.asarray(t["images"], float), np.asarray(t["means"], float)
        ax.plot(x, y, "-", color="0.6", lw=1)
        ax.scatter(x, y, c=[VERDICT_COLOURS[v] for v in t["verdicts"]], s=18, zorder=3)
        own = np.concatenate([y, np.asarray(t.get("thresholds") or [t["threshold"]], float)])
        own = own[np.isfinite(own)]
        lo, hi = _control_references(ax, c.get("controls", []), t["statistic"],
                                     *((float(own.min()), float(own.max())) if len(own) else (0.0, 1.0)))
        pad = 0.08 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1.0)
        ax.set_ylim(lo - pad, hi + pad)
        if t.get("bar", True):  # the rule's bar: its passing side shaded
            ax.axhline(t["threshold"], color="k", ls="--", lw=0.8)
            low, high = ax.get_ylim()
            ax.axhspan(low if t["better"] == "lower" else t["threshold"], t["threshold"] if t["better"] == "lower"
                       else high, color="#dafbe1", zorder=0)
            ax.set_ylim(low, high)
        else:  # a reference at each snapshot that the rule's own test compares against (no passing side)
            ax.plot(x, np.asarray(t["thresholds"], float), color="k", ls="--", lw=0.8)
        by = f"\nread by {t['read_by']}" if t.get("read_by") else ""  # a claim read by two scorer pairings
        ax.set_title(textwrap.shorten(f"{c['section']} {c['claim']}", 48) + f"\n{t['reading']}{by}", fontsize=7,
                     loc="left")
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k"))
        ax.set_xlabel("images seen", fontsize=7)
        ax.set_ylabel(t["statistic"], fontsize=7)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig


def _control_references(ax, controls: list[dict], statistic: str, lo: float, hi: float) -> tuple[float, float]:
    """Draw each control's final mean of `statistic` on a trend panel whose own values span [lo, hi] (dotted: green
    positive, grey negative); one that would widen the panel past TREND_SQUEEZE x that span is named at the edge
    instead, so the curve stays readable. Returns the range (lo, hi) the panel must show."""
    span = hi - lo  # 0: a flat statistic at its threshold, which no reference can squeeze
    named = {True: 0, False: 0}  # references named at the top (True) and bottom edge so far
    for ctl in controls:
        level = _control_level(ctl, statistic)
        if not np.isfinite(level):
            continue
        colour = "#1a7f37" if ctl.get("kind") == "positive" else "0.5"
        if span == 0 or max(hi, level) - min(lo, level) <= TREND_SQUEEZE * span:
            ax.axhline(level, ls=":", lw=1, color=colour)
            lo, hi = min(lo, level), max(hi, level)
        else:
            above = level > hi
            step = 0.1 * named[above]
            ax.annotate(f"{ctl.get('kind', 'negative')} control {level:.3g} {'↑' if above else '↓'}",
                        (0.99, 0.97 - step if above else 0.03 + step), xycoords="axes fraction", ha="right",
                        va="top" if above else "bottom", fontsize=6, color=colour,
                        bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5})
            named[above] += 1
    return lo, hi


def _control_level(control: dict, statistic: str) -> float:
    """A control's mean over seeds of the part named `statistic` (or of its effect, for a rule that decides by its
    own test); NaN when the control has no such part, so a number in other units is never drawn beside the claim's."""
    effect = control.get("effect") or {}
    part = next((p for p in [*control.get("parts", []), effect] if p.get("name") == statistic), None)
    return float(np.mean(part["per_seed"])) if part is not None else float("nan")
