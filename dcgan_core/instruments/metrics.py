"""Sample-quality and memorisation metrics, computed in a named feature space.

Frechet distance (Heusel et al. 2017), KID (Binkowski et al. 2018, cubic polynomial kernel, unbiased
MMD^2 over subsets), precision/recall with k-NN manifolds (Kynkaanniemi et al. 2019, k=3), and the
nearest-neighbour memorisation checks: distances of generated samples to the training set beside
the distances of held-out real images to it (the authors' nnd_score idea). Lower is better for FD
and KID; higher is better for precision and recall. `CopySearch` finds a query's nearest training image exactly
(faiss) over the whole training set, the query's mirror image included.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import torch
from scipy import linalg
from tqdm.auto import tqdm


def _np64(x) -> np.ndarray:
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64).reshape(len(x), -1)


def frechet_distance(a, b) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2) of two (n, d) feature sets. Lower is better."""
    a, b = _np64(a), _np64(b)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"Frechet distance needs >= 2 samples per set, got {len(a)} and {len(b)}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    covmean = linalg.sqrtm(s_a @ s_b)
    if not np.isfinite(covmean).all():  # near-singular product: regularise as pytorch-fid does
        eps = 1e-6 * np.eye(len(s_a))
        covmean = linalg.sqrtm((s_a + eps) @ (s_b + eps))
    if np.iscomplexobj(covmean):  # numerical error makes sqrtm slightly complex; pytorch-fid checks 1e-3 too
        imag = float(np.abs(covmean.imag).max())
        if imag > 1e-3:
            warnings.warn(f"sqrtm of the covariance product has an imaginary part of {imag:.2e} (> 1e-3); this "
                          "Frechet distance is numerically unreliable (too few samples for the dimension?)",
                          RuntimeWarning, stacklevel=2)
        covmean = covmean.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * covmean))


def kid(a, b, subsets: int = 10, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Kernel inception distance: mean and std of unbiased MMD^2 over random subsets. Lower is better."""
    a, b = _np64(a), _np64(b)
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError(f"KID needs >= 2 samples per set, got {len(a)} and {len(b)}")
    rng = np.random.default_rng(seed)
    d = a.shape[1]
    vals = []
    for _ in range(subsets):
        x, y = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
        mmd = ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (m * (m - 1)) - 2 * kxy.mean()
        vals.append(mmd)
    return float(np.mean(vals)), float(np.std(vals))


def pairwise_nn(query, reference, k: int = 1, batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances and indices of the k nearest reference rows of each query row."""
    q, r = torch.as_tensor(_np64(query)), torch.as_tensor(_np64(reference))
    if k > len(r):
        raise ValueError(f"k={k} exceeds the {len(r)} reference points")
    dists, idx = [], []
    for i in range(0, len(q), batch):
        d = torch.cdist(q[i:i + batch], r)
        v, j = d.topk(k, dim=1, largest=False)
        dists.append(v)
        idx.append(j)
    return torch.cat(dists).numpy(), torch.cat(idx).numpy()


def precision_recall(real, fake, k: int = 3) -> tuple[float, float]:
    """Improved precision (fake inside the real manifold) and recall (real inside the fake manifold)."""
    real, fake = _np64(real), _np64(fake)

    def radii(x):  # distance to the k-th neighbour other than itself
        return pairwise_nn(x, x, k + 1)[0][:, -1]

    def coverage(x, manifold, r):
        d = torch.cdist(torch.as_tensor(x), torch.as_tensor(manifold)).numpy()
        return float((d <= r[None, :]).any(1).mean())
    return coverage(fake, real, radii(real)), coverage(real, fake, radii(fake))


def memorisation(generated, train, heldout) -> dict:
    """Nearest-training-neighbour distances of generated samples beside those of held-out real images
    (`memorisation_from`), by brute force in memory: for small sets; `CopySearch` for a whole training set."""
    return memorisation_from(pairwise_nn(generated, train)[0][:, 0], pairwise_nn(heldout, train)[0][:, 0])


def memorisation_from(d_gen: np.ndarray, d_held: np.ndarray) -> dict:
    """A generator that copies its training set puts many samples closer to the training set than real
    unseen images are; `near_copy_rate` is the fraction of generated samples closer than the 1st
    percentile of held-out distances (1% by construction for held-out images themselves)."""
    d_gen, d_held = np.asarray(d_gen, np.float64), np.asarray(d_held, np.float64)
    threshold = float(np.percentile(d_held, 1))
    return {"gen_to_train": d_gen, "heldout_to_train": d_held,
            "median_ratio": float(np.median(d_gen) / np.median(d_held)),
            "near_copy_rate": float((d_gen < threshold).mean()), "near_copy_threshold": threshold}


COARSE = 4  # Sec. 4.1 copy search, pixel space: each side averaged down 4x, so a 1-2 px shift moves <= 1/2 pixel


def coarse_pixels(images: np.ndarray) -> np.ndarray:
    """uint8 (N, C, H, W) as float32 rows of COARSE x COARSE block means in [0, 1] (the copy search's pixels)."""
    x = torch.from_numpy(np.array(images, np.float32, copy=True)) / 255.0
    return torch.nn.functional.avg_pool2d(x, COARSE).flatten(1).numpy()


class CopySearch:
    """Exact nearest training images in one space (faiss, L2) over the whole training set. Each query is searched
    as it is and as its mirror image, the nearer counting: a flipped copy is a copy (issue 25's memorisers)."""

    def __init__(self, embed: Callable[[np.ndarray], np.ndarray], train_images: np.ndarray, batch: int = 4096,
                 desc: str = "copy-search index"):
        self.embed = embed
        self.index: faiss.IndexFlatL2 | None = None
        for i in tqdm(range(0, len(train_images), batch), desc=desc, leave=False):
            v = np.ascontiguousarray(embed(np.asarray(train_images[i:i + batch])), np.float32)
            if self.index is None:
                self.index = faiss.IndexFlatL2(v.shape[1])
            self.index.add(v)
        if self.index is None:
            raise ValueError("the copy search needs at least one training image")

    def nearest(self, images: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Distances and training indices of each image's k nearest training images, itself or mirrored."""
        if not 1 <= k <= self.index.ntotal:
            raise ValueError(f"k={k} nearest training images asked of a search over {self.index.ntotal}")
        images = np.asarray(images)
        found = [self.index.search(np.ascontiguousarray(self.embed(x), np.float32), k)
                 for x in (images, np.ascontiguousarray(images[..., ::-1]))]
        d, i = np.concatenate([f[0] for f in found], 1), np.concatenate([f[1] for f in found], 1)
        order = np.argsort(d, 1, kind="stable")
        d, i = np.take_along_axis(d, order, 1), np.take_along_axis(i, order, 1)
        firsts = [np.unique(row, return_index=True)[1] for row in i]  # a mirror may find the same image again
        rows = [np.sort(f)[:k] for f in firsts]
        return (np.sqrt(np.maximum(np.stack([d[r, c] for r, c in enumerate(rows)]), 0)),
                np.stack([i[r, c] for r, c in enumerate(rows)]))

    def distances(self, images: np.ndarray) -> np.ndarray:
        """Each image's distance to its nearest training image (as it is or mirrored)."""
        return self.nearest(images)[0][:, 0]


def inception_fid(samples: np.ndarray, reference: np.ndarray, weights_path: str, device: str = "cpu") -> float:
    """The standard FID (Inception-v3 pool3, torch-fidelity's port of the 2015 TF weights) of uint8 image sets.

    Needs `pip install .[fid]` and the weights file, which is a download (pt_inception-2015-12-05-6726825d.pth);
    pass its local path. Grey images are repeated to 3 channels; images are resized by torch-fidelity."""

    try:
        # imported here: an optional extra (pip install .[fid])
        import torch_fidelity
    except ImportError as e:
        raise ImportError("Inception FID needs torch-fidelity: pip install -e '.[fid]'") from e
    if not Path(weights_path).is_file():
        raise FileNotFoundError(f"Inception weights {weights_path} not found; download "
                                "pt_inception-2015-12-05-6726825d.pth from torch-fidelity's releases and pass its path")

    class Images(torch.utils.data.Dataset):
        def __init__(self, x):
            self.x = x

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            img = torch.from_numpy(np.array(self.x[i]))
            return img.expand(3, -1, -1) if img.shape[0] == 1 else img

    out = torch_fidelity.calculate_metrics(
        input1=Images(samples), input2=Images(reference), fid=True, verbose=False, cache=False,
        cuda=torch.device(device).type == "cuda", feature_extractor_weights_path=str(weights_path))
    return float(out["frechet_inception_distance"])
