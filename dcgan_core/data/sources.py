"""Dataset sources -> packs. Real sets read their official file formats; embedded sets need no download.

Every source yields records `(name, load)`; `load()` returns the uint8 (C, R, R) image and a dict
of per-image side data. `pack_source` streams them into a PackWriter with a progress bar.
"""

from __future__ import annotations

import pickle
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import embedded
from .faces import face_records
from .images import RESIZE_NOTE, BadImage, convert_array, decode, list_images, resize_crop, to_chw, to_mode
from .packed import SIDE_ARRAYS, PackError, PackWriter

Record = tuple[str, Callable[[], tuple[np.ndarray, dict]]]
SourceOut = tuple[int, Iterator[Record], dict]  # (count, records, meta)

FETCH_HELP = {
    "cifar10": "python -m dcgan_core fetch cifar10 --root {root}   (torchvision downloader, md5-checked)",
    "svhn": "python -m dcgan_core fetch svhn --root {root}   (train/test/extra .mat files, md5-checked)",
    "celeba": "python -m dcgan_core fetch celeba --root {root}   (Google Drive; if its quota blocks it, download "
              "img_align_celeba.zip and the list_*.txt files from mmlab.ie.cuhk.edu.hk/projects/CelebA.html "
              "into {root}/celeba/)",
    "lsun": "git clone https://github.com/fyu/lsun && python lsun/download.py -c {category} -o {root} && "
            "unzip {root}/{category}_train_lmdb.zip -d {root}",
    "imagenet32": "download Imagenet32_train.zip and Imagenet32_val.zip (npz/pickle batches) from "
                  "image-net.org/download-images (login required) and unzip them into {root}",
}


def _missing(source: str, what: Path, root: str | Path, **fmt) -> FileNotFoundError:
    how = FETCH_HELP[source].format(root=root, **fmt)
    return FileNotFoundError(f"{source}: {what} not found. Get the files with:\n  {how}\n(see data/README.md)")


def _from_array(arr: np.ndarray, resolution: int, channels: int, **extra) -> Callable[[], tuple[np.ndarray, dict]]:
    return lambda: (convert_array(arr, resolution, channels), extra)


def _from_file(path: Path, resolution: int, channels: int, **extra) -> Callable[[], tuple[np.ndarray, dict]]:
    return lambda: (to_chw(resize_crop(to_mode(decode(path, str(path)), channels), resolution)), extra)


# --- real sets, official formats -------------------------------------------------------------------------

def cifar10(root: str, split: str = "train", resolution: int = 32, channels: int = 3, **_) -> SourceOut:
    """CIFAR-10 python pickle batches (cifar-10-batches-py/data_batch_1..5, test_batch)."""
    folder = Path(root) / "cifar-10-batches-py"
    names = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
    if split not in names:
        raise ValueError(f"cifar10 split must be one of {list(names)}, got {split!r}")
    batches = []
    for name in names[split]:
        if not (folder / name).is_file():
            raise _missing("cifar10", folder / name, root)
        with open(folder / name, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        batches.append((np.asarray(entry["data"], np.uint8).reshape(-1, 3, 32, 32), entry["labels"]))
    data = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([np.asarray(b[1], np.int64) for b in batches])
    recs = (( f"{split}[{i}]", _from_array(data[i], resolution, channels, labels=labels[i])) for i in range(len(data)))
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    return len(data), recs, {"class_names": classes, "resize": "none at 32px; else " + RESIZE_NOTE}


SVHN_VAL = 10_000  # Sec. 5.2 / the authors' probe: train shuffled, the first 10,000 are the validation set


def svhn(root: str, split: str = "train", resolution: int = 32, channels: int = 3, seed: int = 0,
         **_) -> SourceOut:
    """SVHN cropped digits, format 2 (.mat with X (32,32,3,N) and y in 1..10, where 10 means 0). Splits train,
    test, extra, and from train: val (the first SVHN_VAL of default_rng(seed)'s shuffle) and fit (the rest)."""
    # imported here: only the SVHN .mat reader needs it
    from scipy.io import loadmat

    if split not in ("train", "test", "extra", "val", "fit"):
        raise ValueError(f"svhn split must be train, test, extra, val or fit, got {split!r}")
    file = "train" if split in ("val", "fit") else split
    path = Path(root) / f"{file}_32x32.mat"
    if not path.is_file():
        raise _missing("svhn", path, root)
    mat = loadmat(path)
    data = np.ascontiguousarray(mat["X"].transpose(3, 2, 0, 1)).astype(np.uint8)
    labels = mat["y"].reshape(-1).astype(np.int64) % 10  # SVHN stores digit 0 as label 10
    idx = np.arange(len(data))
    if file != split:
        order = np.random.default_rng(seed).permutation(len(data))
        idx = np.sort(order[:SVHN_VAL] if split == "val" else order[SVHN_VAL:])
    recs = ((f"{file}[{i}]", _from_array(data[i], resolution, channels, labels=labels[i])) for i in idx)
    return len(idx), recs, {"class_names": [str(d) for d in range(10)], "split": split,
                            "resize": "none at 32px; else " + RESIZE_NOTE}


def imagenet32(root: str, split: str = "train", resolution: int = 32, channels: int = 3, **_) -> SourceOut:
    """Downsampled ImageNet 32x32 (Chrabaszcz et al. 2017) pickle batches: 'data' (N, 3072), 'labels' 1..1000."""
    root_p = Path(root)
    names = {"train": [f"train_data_batch_{i}" for i in range(1, 11)], "val": ["val_data"]}
    if split not in names:
        raise ValueError(f"imagenet32 split must be train or val, got {split!r}")
    files = []
    for name in names[split]:
        found = [p for p in (root_p / name, root_p / "Imagenet32_train" / name, root_p / "Imagenet32_val" / name)
                 if p.is_file()]
        if not found:
            if files:  # a partial download (fewer batches) is allowed, in order
                break
            raise _missing("imagenet32", root_p / name, root)
        files.append(found[0])
    data, labels = [], []
    for path in files:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        data.append(np.asarray(entry["data"], np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(entry["labels"], np.int64) - 1)  # stored 1-based
    data, lab = np.concatenate(data), np.concatenate(labels)
    recs = ((f"{split}[{i}]", _from_array(data[i], resolution, channels, labels=lab[i])) for i in range(len(data)))
    return len(data), recs, {"batches": [p.name for p in files], "resize": "none at 32px; else " + RESIZE_NOTE}


def lsun(root: str, split: str = "train", resolution: int = 64, channels: int = 3, category: str = "bedroom",
         limit: int | None = None, **_) -> SourceOut:
    """LSUN scene category from the official lmdb export ({category}_{split}_lmdb, values are webp/jpeg)."""
    # imported here: lmdb is needed only for LSUN's database
    import lmdb

    path = Path(root) / f"{category}_{split}_lmdb"
    if not (path / "data.mdb").is_file():
        raise _missing("lsun", path, root, category=category)
    env = lmdb.open(str(path), readonly=True, lock=False, readahead=False, meminit=False, max_readers=1)
    n = env.stat()["entries"]
    n = min(n, limit) if limit else n

    def records() -> Iterator[Record]:
        with env.begin(write=False) as txn:
            for i, (key, value) in enumerate(txn.cursor()):
                if i >= n:
                    break
                name = f"{path.name}/{key.decode(errors='replace')}"
                yield name, (lambda v=value, nm=name: (to_chw(resize_crop(to_mode(decode(v, nm), channels),
                                                                          resolution)), {}))
    return n, records(), {"category": category, "resize": RESIZE_NOTE}


def _celeba_table(path: Path, header_lines: int) -> tuple[list[str], list[str], np.ndarray]:
    lines = path.read_text().splitlines()
    header = lines[1].split() if header_lines == 2 else []
    rows = [ln.split() for ln in lines[header_lines:] if ln.strip()]
    return header, [r[0] for r in rows], np.array([[int(v) for v in r[1:]] for r in rows], np.int64)


def celeba(root: str, split: str = "train", resolution: int = 64, channels: int = 3, crop: str | None = None,
           **_) -> SourceOut:
    """CelebA aligned images with the 40 attributes and 5 landmarks (list_*_celeba.txt)."""
    base = Path(root) / "celeba" if (Path(root) / "celeba").is_dir() else Path(root)
    crop = crop or "square"
    if crop not in ("square", "common108"):
        raise ValueError(f"celeba crop must be 'square' (centre square) or 'common108' (the ports' 108px "
                         f"centre crop), got {crop!r}")
    needed = ["list_attr_celeba.txt", "list_landmarks_align_celeba.txt", "list_eval_partition.txt"]
    for name in needed + ["img_align_celeba"]:
        if not (base / name).exists():
            raise _missing("celeba", base / name, root)
    attr_names, files, attrs = _celeba_table(base / "list_attr_celeba.txt", 2)
    _, lm_files, landmarks = _celeba_table(base / "list_landmarks_align_celeba.txt", 2)
    _, part_files, part = _celeba_table(base / "list_eval_partition.txt", 0)
    if files != lm_files or files != part_files:
        raise PackError(f"celeba: the list files in {base} disagree on the image names; re-download them")
    splits = {"train": 0, "valid": 1, "test": 2}
    if split not in (*splits, "all"):
        raise ValueError(f"celeba split must be train, valid, test or all, got {split!r}")
    keep = [i for i in range(len(files)) if split == "all" or part[i, 0] == splits[split]]

    def load(i: int) -> tuple[np.ndarray, dict]:
        path = base / "img_align_celeba" / files[i]
        img = to_mode(decode(path, str(path)), channels)
        side = 108 if crop == "common108" else min(img.size)
        left, top = (img.size[0] - side) // 2, (img.size[1] - side) // 2
        lm = (landmarks[i].reshape(5, 2) - [left, top]) * resolution / side  # into pack pixel coordinates
        return to_chw(resize_crop(img, resolution, (left, top, left + side, top + side))), {
            "attributes": (attrs[i] > 0).astype(np.uint8), "landmarks": lm.astype(np.float32).reshape(-1)}
    recs = ((files[i], (lambda i=i: load(i))) for i in keep)
    return len(keep), recs, {"attribute_names": attr_names, "crop": crop, "split": split,
                             "landmark_names": ["lefteye", "righteye", "nose", "leftmouth", "rightmouth"],
                             "resize": f"{crop} centre crop, PIL bicubic to {resolution}px"}


def folder(root: str, resolution: int = 64, channels: int = 3, labels_from_dirs: bool = False,
           detect_faces: bool = False, min_face: int = 48, **_) -> SourceOut:
    """Any tree of images; optional labels by sub-folder; optional Sec. 4.2 face crops."""
    if root is None or not Path(root).is_dir():
        raise FileNotFoundError(f"folder: --root {root!r} is not a directory of images")
    paths = list_images(Path(root))
    if not paths:
        raise FileNotFoundError(f"folder: no images ({', '.join(('.jpg', '.png', '...'))}) under {root}")
    classes = sorted({p.relative_to(root).parts[0] for p in paths if len(p.relative_to(root).parts) > 1})
    meta: dict = {"resize": RESIZE_NOTE, "split": "all"}
    if labels_from_dirs:
        meta["class_names"] = classes

    def extra(p: Path) -> dict:
        return {"labels": classes.index(p.relative_to(root).parts[0])} if labels_from_dirs else {}
    if detect_faces:
        n, recs, face_meta = face_records(paths, resolution, channels, min_face, extra)
        return n, recs, {**meta, **face_meta}
    recs = ((str(p), _from_file(p, resolution, channels, **extra(p))) for p in paths)
    return len(paths), recs, meta


# --- registry and the generic packer --------------------------------------------------------------------

def _embedded(name: str):
    def reader(**kw):
        return getattr(embedded, name.replace("-", "_"))(**kw)
    reader.__doc__ = f"embedded set {name} (no download)"
    return reader


SOURCES: dict[str, Callable] = {
    "cifar10": cifar10, "svhn": svhn, "lsun": lsun, "celeba": celeba, "imagenet32": imagenet32, "folder": folder,
    "mnist5k": _embedded("mnist5k"), "digits": _embedded("digits"),
    "synth-rooms": _embedded("synth-rooms"), "synth-faces": _embedded("synth-faces"),
}
NEEDS_ROOT = ("cifar10", "svhn", "lsun", "celeba", "imagenet32", "folder")
FETCHABLE = ("cifar10", "svhn", "celeba")  # `fetch` downloads these with torchvision's checksummed downloaders
# the options each source takes beyond resolution, channels, limit and seed; anything else is refused
OPTIONS = {"cifar10": {"root", "split"}, "svhn": {"root", "split"}, "imagenet32": {"root", "split"},
           "lsun": {"root", "split", "category"}, "celeba": {"root", "split", "crop"},
           "folder": {"root", "labels_from_dirs", "detect_faces", "min_face"},
           "mnist5k": {"split"}, "digits": {"split"}, "synth-rooms": {"workers"}, "synth-faces": {"workers"}}
DEFAULTS = {"cifar10": (32, 3), "svhn": (32, 3), "imagenet32": (32, 3), "lsun": (64, 3), "celeba": (64, 3),
            "folder": (64, 3), "mnist5k": (32, 1), "digits": (32, 1), "synth-rooms": (64, 3), "synth-faces": (64, 3)}


def pack_source(source: str, out: str | Path, root: str | None = None, resolution: int | None = None,
                channels: int | None = None, split: str | None = None, limit: int | None = None, seed: int = 0,
                skip_bad: bool = False, overwrite: bool = False, progress: bool = True, **options) -> Path:
    """Pack `source` into `out` (images.npy + meta.json + side files); atomic and deterministic."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; valid sources: {', '.join(SOURCES)}")
    if source in NEEDS_ROOT and not root:
        raise ValueError(f"{source} needs --root (where its files are); see data/README.md")
    res, ch = DEFAULTS[source]
    res, ch = resolution or res, channels or ch
    if res < 8 or res & (res - 1):
        raise ValueError(f"resolution must be a power of two >= 8, got {res}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    if Path(out).exists() and not overwrite:
        raise PackError(f"{out} already exists; pass --overwrite to replace it")
    options = {k: v for k, v in options.items() if v is not None and v is not False}
    given = set(options) | {k for k, v in (("root", root), ("split", split)) if v is not None}
    if given - OPTIONS[source]:
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in sorted(given - OPTIONS[source]))
        takes = ", ".join(f"--{k.replace('_', '-')}" for k in sorted(OPTIONS[source])) or "none"
        raise ValueError(f"source {source} does not take {flags}; its options: {takes}")
    kwargs = {"resolution": res, "channels": ch, "seed": seed, "limit": limit, **options}
    if split is not None:
        kwargs["split"] = split
    if root is not None:
        kwargs["root"] = root
    count, records, src_meta = SOURCES[source](**kwargs)
    count = min(count, limit) if limit else count
    flags = {"root": root, "resolution": res, "channels": ch, "split": split, "limit": limit, "seed": seed,
             "skip-bad": skip_bad, **options}
    command = ["python", "-m", "dcgan_core", "pack", source, "--out", str(out)] + [
        part for k, v in flags.items() if v not in (None, False)
        for part in ([f"--{k.replace('_', '-')}"] + ([] if v is True else [str(v)]))]
    meta = {"source": source, "split": split or src_meta.pop("split", "train"),
            "root": str(Path(root).resolve()) if root else None, "seed": seed, "limit": limit,
            "command": shlex.join(command), **src_meta}
    side: dict[str, list] = {}
    boxes: list | None = None
    bad: list[str] = []
    with PackWriter(out, count, ch, res, res, overwrite=overwrite) as w:
        kept = 0
        for name, load in tqdm(records, total=count, desc=f"pack {source}", disable=not progress, unit="img"):
            if kept >= count:
                break
            try:
                img, extra = load()
            except BadImage:
                if not skip_bad:
                    raise
                bad.append(name)
                continue
            w.images[kept] = img
            for k, v in extra.items():
                if k == "boxes":
                    boxes = boxes if boxes is not None else []
                    boxes.append(v)
                else:
                    side.setdefault(k, []).append(v)
            kept += 1
        meta["skipped"] = {"count": len(bad), "files": bad}
        arrays = {k: np.asarray(v) for k, v in side.items() if k in SIDE_ARRAYS}
        return w.commit(meta, count=kept, boxes=boxes, **arrays)


def fetch(source: str, root: str) -> None:
    """Download with torchvision's checksum-checked downloaders (needs internet)."""
    # imported here: torchvision is slow to import and only `fetch` needs it
    import torchvision.datasets as tvd

    if source == "cifar10":
        tvd.CIFAR10(root, train=True, download=True)
        tvd.CIFAR10(root, train=False, download=True)
    elif source == "svhn":
        for split in ("train", "test", "extra"):
            tvd.SVHN(root, split=split, download=True)
    elif source == "celeba":
        tvd.CelebA(root, split="all", target_type="attr", download=True)
    else:
        raise ValueError(f"fetch supports {', '.join(FETCHABLE)}; for {source}: {FETCH_HELP.get(source, '')}")
