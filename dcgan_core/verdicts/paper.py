"""The paper's numbers and what stands in for its data, in one place (Radford, Metz & Chintala 2015, v2).

Chapters and tests compare against these; nothing else in the project types a paper number.
"""

from __future__ import annotations

# Sec. 5.1, Table 1: CIFAR-10 test accuracy, all labels and 400 per class (the 400-column values are unconfirmed)
TABLE1 = {
    "DCGAN (ImageNet-1k D, 28672-d) + L2-SVM": ("82.8%", "73.8% +- 0.4% (unconfirmed)"),
    "1-layer K-means (4800 features)": ("80.6%", "63.7% +- 0.7%"),
    "3-layer K-means learned RF": ("82.0%", "70.7% +- 0.7%"),
    "Exemplar CNN": ("84.3%", "77.4% +- 0.2%"),
}
CIFAR_DCGAN_ACCURACY = 0.828  # Sec. 5.1


def table1_pair(column: int) -> str:
    """'DCGAN vs 1-layer K-means' in a Table 1 column (0: all labels, 1: 400 per class)."""
    dcgan, kmeans = (TABLE1[k][column].split(" ")[0] for k in list(TABLE1)[:2])
    return f"{dcgan} vs {kmeans} ({'4800 features' if column == 0 else '400 per class'})"

CIFAR_KMEANS_ACCURACY = 0.806  # Table 1, 4800 features

# Sec. 5.2, Table 2: SVHN test error with 1000 labels
SVHN_DCGAN_ERROR = 0.2248  # Sec. 5.2 text; later papers cite 22.18% +- 1.13
SVHN_DCGAN_ERROR_CITED = "22.18% +- 1.13"
SVHN_SUPERVISED_VAL_ERROR = 0.2887  # Table 2: a *validation* error, 64 random-search trials
SVHN_SUPERVISED_TRIALS = 64
TABLE2 = {
    "KNN": "77.93%", "TSVM": "66.55%", "M1+KNN": "65.63% (unconfirmed)", "M1+TSVM": "54.33% (unconfirmed)",
    "M1+M2": "36.02%", "SWWAE without dropout": "27.83%", "SWWAE with dropout": "23.56%",
    "DCGAN + L2-SVM": "22.48%", "supervised CNN, same architecture": "28.87% (validation)",
}

# Sec. 6.3.1 / 6.3.2 protocol numbers
WINDOW_SAMPLES, WINDOW_BOXES, WINDOW_MAPS = 150, 52, 200
ARITHMETIC_EXEMPLARS, ARITHMETIC_JITTER, ARITHMETIC_JITTERED = 3, 0.25, 8
TURN_EXEMPLARS = 4
WALK_ANCHORS = 9  # Sec. 6.1 / Fig. 4

# Issue 27: the paper's compute, beside every profile's (book/generated/compute.md). The paper reports no hours.
PAPER_COMPUTE = (
    {"model": "LSUN bedrooms (Fig. 1-3, Sec. 6)", "images_seen": 5 * 3_000_000, "resolution": 64,
     "widths": "G 1024-512-256-128 (Fig. 1), D mirrors it", "note": "5 epochs of ~3M images (Fig. 3)"},
    {"model": "faces (Sec. 6.3.2)", "images_seen": 25 * 350_000, "resolution": 64, "widths": "as LSUN's",
     "note": "25 epochs of ~350k faces: the authors' faces script, not the paper"},
)

# What each embedded source stands in for (a claim measured on a stand-in names it)
STAND_INS = {
    "synth-rooms": "synthetic rooms, a stand-in for LSUN bedrooms",
    "synth-faces": "synthetic faces, a stand-in for the paper's 350k web faces",
    "mnist5k": "MNIST-5k (real digits)",
    "digits": "scikit-learn's 8x8 digits (real, UCI)",
}
PAPER_DATA = {"lsun": "LSUN bedrooms", "celeba": "CelebA faces", "cifar10": "CIFAR-10", "svhn": "SVHN",
              "imagenet32": "ImageNet-1k 32x32"}


def paper_scale(data: str) -> str:
    """The paper's data and scale beside a claim measured on `data` (a `describe_data` or `probe_data` text): the
    paper's run its stand-in replaces (PAPER_COMPUTE), or the probe protocol it stands in for."""
    if ": a stand-in for " in data:  # a probe: probe_data names the paper's protocol
        return data.split(": a stand-in for ", 1)[1]
    for source, row in (("synth-rooms", PAPER_COMPUTE[0]), ("synth-faces", PAPER_COMPUTE[1])):
        if STAND_INS[source] in data:
            side = row["resolution"]
            return f"{row['model']}: {side}x{side}, {row['images_seen']:,} images seen; {row['note']}"
    if STAND_INS["mnist5k"] in data:
        return "none: the paper trains no unconditional MNIST model (its MNIST model is conditional)"
    return "-"


def describe_data(meta: dict, profile: str) -> str:
    """'synth-rooms 32x32 (stand-in for LSUN bedrooms), 20,000 images, cpu profile' from a pack's meta."""
    source = meta.get("source", "?")
    name = STAND_INS.get(source) or PAPER_DATA.get(source, source)
    return f"{name}, {meta.get('resolution')}x{meta.get('resolution')}, {meta.get('count', 0):,} images, " \
           f"{profile} profile"


def probe_data(gan_meta: dict, probe_meta: dict, n_test: int, profile: str, paper_protocol: str) -> str:
    """A probe's data: where D learned, what it is probed on, and what the pair stands in for."""
    def name(meta: dict) -> str:
        return STAND_INS.get(meta.get("source"), "").split(",")[0] or PAPER_DATA.get(meta.get("source"), "?")
    on_paper = gan_meta.get("source") not in STAND_INS and probe_meta.get("source") not in STAND_INS
    text = (f"D trained without labels on {name(gan_meta)} ({gan_meta.get('count', 0):,} images), probed on "
            f"{name(probe_meta)} ({probe_meta.get('count', 0):,} labelled, {n_test:,} test), {profile} profile")
    return text if on_paper else f"{text}: a stand-in for {paper_protocol}"


def paper_table(rows: dict, columns: list[str]) -> str:
    """Markdown of a paper table, printed apart from ours (different data and protocol)."""
    out = ["| method (paper) | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for name, cells in rows.items():
        cells = cells if isinstance(cells, tuple) else (cells,)
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)
