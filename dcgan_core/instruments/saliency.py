"""Sec. 6.2: what D's features respond to. Guided backprop of D's feature maps (captum), the box measure that
scores where the saliency falls, and the cascading randomisation check of Adebayo et al. (2018).

captum's guided backprop rewrites the gradient of `nn.ReLU` modules only; the DCGAN discriminator uses LeakyReLU
(Sec. 3), through which captum would silently pass the plain gradient. `guided_copy` swaps each LeakyReLU of a
copy of D for `GuidedLeakyReLU`, an `nn.ReLU` subclass with the leaky forward, which captum then hooks. Our rule
for the negative slope (the paper states none): the unit's own backward (the gradient times the slope where its
input is negative), then, as for ReLU, only positive gradients pass.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn

from dcgan_core.core.models import Discriminator, init_weights
from dcgan_core.utils.torch_utils import eval_mode, to_float

NETWORK_METHODS = ("guided backprop", "gradient", "gradient x input")  # attributions that read the network
# the image alone, no network: its edges (Sec. 6.2's baseline), and its edges under a smooth random weighting (maps
# that follow no object by construction, yet are not the baseline itself: the "little discrimination" positive control)
METHODS = (*NETWORK_METHODS, "image edges", "weighted edges")


class GuidedLeakyReLU(nn.ReLU):
    """LeakyReLU that captum's guided backprop recognises (it hooks nn.ReLU and its subclasses)."""

    def __init__(self, negative_slope: float):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.negative_slope)


def guided_copy(model: nn.Module) -> nn.Module:
    """A copy of `model` with every LeakyReLU replaced by GuidedLeakyReLU (and no in-place activations)."""
    out = copy.deepcopy(model)
    for parent in out.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.LeakyReLU):
                setattr(parent, name, GuidedLeakyReLU(child.negative_slope))
            elif isinstance(child, nn.ReLU):
                setattr(parent, name, nn.ReLU())
    return out


def check_feature(D: Discriminator, layer: int, feature: int | None = None) -> nn.Module:
    """The conv block `layer` of D (negative counts from the last), or an error naming the valid range."""
    n = len(D.convs)
    if not isinstance(layer, int) or not -n <= layer < n:
        raise ValueError(f"layer={layer!r} is not a conv layer of D; valid: 0..{n - 1} or -{n}..-1 (-1 = last)")
    width = D.convs[layer][0].out_channels
    if feature is not None and (not isinstance(feature, (int, np.integer)) or not 0 <= feature < width):
        raise ValueError(f"feature={feature!r} is not a feature map of D's layer {layer}; valid: 0..{width - 1}")
    return D.convs[layer]


@torch.no_grad()
def max_responses(D: Discriminator, images, layer: int = -1, batch_size: int = 256) -> np.ndarray:
    """(N, features): each feature map's maximal response on each image (Sec. 6.2: "maximal axis-aligned")."""
    check_feature(D, layer)
    device = next(D.parameters()).device
    out = []
    with eval_mode(D):
        for i in range(0, len(images), batch_size):
            out.append(D.conv_outputs(to_float(images[i:i + batch_size], device))[layer].amax((2, 3)).float().cpu())
    return torch.cat(out).numpy()


def saliency(D: Discriminator, images, layer: int, feature: int, method: str = "guided backprop") -> np.ndarray:
    """(N, C, H, W) attribution of feature map `feature`'s maximal response at conv `layer` to the input pixels."""
    # imported here: captum is slow to import and only saliency maps need it
    from captum.attr import NeuronGradient, NeuronGuidedBackprop

    if method not in METHODS:
        raise ValueError(f"method={method!r}; valid: {', '.join(METHODS)}")
    check_feature(D, layer, feature)
    if method == "image edges":
        return image_edges(images)
    if method == "weighted edges":
        return weighted_edges(images, seed=feature)
    model = guided_copy(D)  # no in-place ops, and LeakyReLU guided where asked
    block = model.convs[layer]
    device = next(D.parameters()).device
    x = to_float(images, device).requires_grad_(True)
    selector: Callable = lambda out: out[:, feature].amax((1, 2))
    with eval_mode(model), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")  # captum's note on its hooks
        if method == "guided backprop":
            a = NeuronGuidedBackprop(model, block).attribute(x, neuron_selector=selector)
        else:
            a = NeuronGradient(model, block).attribute(x, neuron_selector=selector)
            if method == "gradient x input":
                a = a * x
    return a.detach().float().cpu().numpy()


def image_edges(images) -> np.ndarray:
    """(N, C, H, W) Sobel gradient magnitude of each channel of each image: a map that follows the image's edges and
    nothing a network learned, the baseline of Sec. 6.2's "random filters show little discrimination"."""
    from scipy import ndimage

    x = np.asarray(images, np.float32) / 255.0
    # a (1, 1, 3, 3) kernel: ndimage.sobel would also smooth across the batch and colour axes, mixing neighbours
    gx = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)[None, None]
    dx = ndimage.correlate(x, gx, mode="nearest")
    dy = ndimage.correlate(x, np.swapaxes(gx, -1, -2), mode="nearest")
    return np.hypot(dx, dy)


def weighted_edges(images, seed: int, cells: int = 4) -> np.ndarray:
    """`image_edges` times a smooth random field in [0, 1] per image (cells x cells uniform draws, bilinearly
    upsampled): maps that move their energy about the image at random, knowing nothing of its objects."""
    edges = image_edges(images)
    field = np.random.default_rng(seed).random((len(edges), 1, cells, cells), dtype=np.float32)
    field = F.interpolate(torch.from_numpy(field), size=edges.shape[-2:], mode="bilinear", align_corners=False)
    return edges * field.numpy()


def energy(maps: np.ndarray) -> np.ndarray:
    """(N, H, W) saliency energy: absolute attribution summed over colour channels."""
    return np.abs(maps).sum(1)


def box_masks(boxes: list, n_classes: int, size: int) -> np.ndarray:
    """(n_classes, size, size) bool: pixels whose centre lies in a box of each class ([cls, x0, y0, x1, y1])."""
    masks = np.zeros((n_classes, size, size), bool)
    c = np.arange(size) + 0.5
    for cls, x0, y0, x1, y1 in boxes:
        masks[int(cls)] |= ((c[:, None] >= y0) & (c[:, None] <= y1)) & ((c[None, :] >= x0) & (c[None, :] <= x1))
    return masks


def box_energy(energies: np.ndarray, boxes: list, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Energy pointing game: per image and class, the share of saliency energy inside the class's boxes and the
    share of image area they cover (NaN where the class is absent). Returns (energy share, area share), (N, K)."""
    n, size = len(energies), energies.shape[-1]
    e_share, a_share = np.full((n, n_classes), np.nan), np.full((n, n_classes), np.nan)
    for i in range(n):
        masks = box_masks(boxes[i], n_classes, size)
        total = energies[i].sum()
        for k in np.flatnonzero(masks.any((1, 2))):
            e_share[i, k] = energies[i][masks[k]].sum() / total if total > 0 else 0.0
            a_share[i, k] = masks[k].mean()
    return e_share, a_share


def concentration(e_share: np.ndarray, a_share: np.ndarray, min_present: int = 5, alpha: float = 0.05) -> dict:
    """Does the saliency concentrate on one object class beyond its area (or another expected share, e.g. the
    images' edge energy)? Per class: mean (energy share - expected share) over the images where it is present,
    one-sided t-test; selective if a class passes at alpha / K (Bonferroni over the K classes tested)."""
    gains, ps = {}, {}
    for k in range(e_share.shape[1]):
        d = (e_share[:, k] - a_share[:, k])[~np.isnan(e_share[:, k])]
        if len(d) >= min_present:
            gains[k] = float(d.mean())
            ps[k] = float(stats.ttest_1samp(d, 0, alternative="greater").pvalue) if d.std() > 0 else \
                float(d.mean() <= 0)
    if not gains:
        return {"best_class": None, "gain": float("nan"), "p": 1.0, "selective": False}
    best = min(ps, key=ps.get)
    return {"best_class": best, "gain": gains[best], "p": ps[best], "selective": ps[best] < alpha / len(ps)}


def feature_study(D: Discriminator, images: np.ndarray, boxes: list | None, n_classes: int, layer: int = -1,
                  top: int = 20, method: str = "guided backprop") -> list[dict]:
    """For every feature of conv `layer`: its `top` most responsive images, the attribution of its maximal response
    on them, and where that attribution falls (`concentration`; not measured without boxes): beyond each class's
    area, and in `beyond_edges` beyond the share of the same images' edge energy in its boxes."""
    resp = max_responses(D, images, layer)
    # Sec. 6.2: on rooms objects are where the edges are, so a map that only follows edges lands on them too
    edge_energy = energy(image_edges(images)) if boxes is not None else None  # once, not per feature
    out = []
    for f in range(resp.shape[1]):
        idx = np.argsort(-resp[:, f], kind="stable")[:top]
        if boxes is None:
            none = {"best_class": None, "gain": float("nan"), "p": 1.0, "selective": False}
            out.append({"feature": f, "top": idx, **none, "beyond_edges": none})
            continue
        top_boxes = [boxes[i] for i in idx]
        e, a = box_energy(energy(saliency(D, images[idx], layer, f, method)), top_boxes, n_classes)
        edges = box_energy(edge_energy[idx], top_boxes, n_classes)[0]
        out.append({"feature": f, "top": idx, **concentration(e, a), "beyond_edges": concentration(e, edges)})
    return out


def randomised_cascade(D: Discriminator, seed: int = 0) -> list[tuple[str, Discriminator]]:
    """Adebayo et al. (2018): copies of D with its conv blocks re-initialised (Sec. 4's init) cumulatively from the
    last one down: [("conv 3", D with block 3 random), ("conv 3-2", ...), ...]. D itself is untouched."""
    out, current = [], copy.deepcopy(D)
    n = len(D.convs)
    with torch.random.fork_rng():  # the caller's random streams (CPU and CUDA) are left as they were
        torch.manual_seed(seed)
        for k in range(n - 1, -1, -1):
            current = copy.deepcopy(current)
            init_weights(current.convs[k], D.config.init_std)
            for m in current.convs[k].modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.reset_running_stats()
            out.append((f"conv {n - 1}" + (f"-{k}" if k < n - 1 else ""), current))
    return out


def map_similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean Spearman rank correlation and SSIM between two sets of saliency energies (N, H, W), each map
    normalised to [0, 1] (Adebayo et al.'s measures, on absolute values)."""
    # imported here: scikit-image is slow to import; only the randomisation check needs it
    from skimage.metrics import structural_similarity

    rho, ssim = [], []
    for x, y in zip(a, b):
        r = stats.spearmanr(x.ravel(), y.ravel()).statistic
        rho.append(0.0 if np.isnan(r) else r)
        nx, ny = x / (x.max() or 1), y / (y.max() or 1)
        ssim.append(structural_similarity(nx, ny, data_range=1.0, win_size=7))
    return float(np.mean(rho)), float(np.mean(ssim))


def randomisation_check(D: Discriminator, images: np.ndarray, features: list[int], layer: int = -1,
                        seed: int = 0) -> dict[str, dict[str, list[float]]]:
    """Per method and cascade step: similarity (rank correlation, SSIM) of the randomised D's maps to the trained
    D's, for the given features' maximal responses on `images`. A method that explains the weights changes."""
    steps = randomised_cascade(D, seed)
    out: dict[str, dict[str, list[float]]] = {}
    for method in NETWORK_METHODS:
        ref = {f: energy(saliency(D, images, layer, f, method)) for f in features}
        rows = {"step": [], "rank correlation": [], "ssim": []}
        for name, Dr in steps:
            sims = [map_similarity(ref[f], energy(saliency(Dr, images, layer, f, method))) for f in features]
            rows["step"].append(name)
            rows["rank correlation"].append(float(np.mean([s[0] for s in sims])))
            rows["ssim"].append(float(np.mean([s[1] for s in sims])))
        out[method] = rows
    return out


# --- Sec. 6.3.1: the generator's feature maps ------------------------------------------------------------------
