"""One validated parameter object per chapter: the paper's values as its defaults (each with its citation), what
a profile scales from profiles/<profile>.yaml, and overrides from papermill.

A notebook's `parameters` cell holds the profile name and one `None` per parameter (exactly the object's fields);
its next cell calls `params.load(<notebook>, profile, globals())`, which takes the defaults, the profile's
section and the non-None overrides, in that order, and validates everything before any compute. So a chapter
runs as is in Jupyter (cpu profile), under `make`, or as
`papermill notebooks/05_latent_walks.ipynb out.ipynb -p profile smoke -p repeats 3`.
Paths (packs, runs, the chapter's output) follow from the profile by convention (`pipeline`).
"""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import ClassVar

from dcgan_core.book import pipeline
from dcgan_core.core import runs
from dcgan_core.data.packed import load_pack
from dcgan_core.instruments.detector import DetectorConfig
from dcgan_core.instruments.hashing import MAX_RADIUS, MIN_FIT
from dcgan_core.instruments.judges import JudgeConfig
from dcgan_core.instruments.probes import C_GRID, DRAWS_PER_C, FINAL_DRAWS
from dcgan_core.studies import guidelines, training
from dcgan_core.studies.dedup import TRANSFORMS
from dcgan_core.utils.errors import ParameterError
from dcgan_core.verdicts import paper
from dcgan_core.verdicts.paper import describe_data


@dataclass(frozen=True, kw_only=True)
class Chapter:
    """What every chapter gets: the profile, its device, and the paths and models it names."""

    notebook: str
    profile: str
    device: str

    def __post_init__(self) -> None:
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ParameterError(f"parameter device={self.device!r} is invalid: cpu, cuda or cuda:N")
        for name, (low, note) in self.minimums.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ParameterError(f"parameter {name}={value!r} must be an integer >= {low}{note}")
        self.check()

    minimums: ClassVar[dict] = {}  # integer parameter -> (lowest value, note)

    def check(self) -> None:
        """Per-chapter checks beyond the integer minimums."""

    @cached_property
    def spec(self) -> dict:
        """The whole profile (read once)."""
        return pipeline.load_profile(self.profile)

    @property
    def packs(self) -> dict[str, str]:
        return {k: str(pipeline.pack_dir(self.profile, k)) for k in self.spec["packs"]}

    @property
    def models(self) -> dict[str, dict]:
        return self.spec["models"]

    @property
    def runs_root(self) -> Path:
        return pipeline.runs_dir(self.profile)

    @property
    def out_dir(self) -> Path:
        return pipeline.CHAPTERS_DIR / self.notebook

    def run(self, model: str, seed: int, progress: bool = True) -> Path:
        """The run directory of a profile model at a seed: trained, or reused when its config matches."""
        return pipeline.ensure_trained(model, self.models[model], self.packs, self.device, self.runs_root, seed,
                                       progress)

    def pack(self, name: str):
        return load_pack(self.packs[name])

    def judge(self, model: str, progress: bool = True, scorer: str = "a"):
        """Scorer `scorer` (a or b) of a model's training data (cached under runs/<profile>/judges; the profile's
        judge_epochs): what one selects, the other scores."""
        return pipeline.judge_of(self.models, self.models[model]["data"], self.packs,
                                 self.spec.get("judge_epochs", JudgeConfig.epochs), self.device, self.runs_root,
                                 scorer, progress)

    def detector(self, model: str, progress: bool = True, scorer: str = "a"):
        """Object segmenter `scorer` (a or b) of a model's training pack (its boxes; cached under
        runs/<profile>/judges; the profile's detector_epochs): what one selects, the other counts."""
        return pipeline.detector_of(self.models, self.models[model]["data"], self.packs,
                                    self.spec.get("detector_epochs", DetectorConfig.epochs), self.device,
                                    self.runs_root, scorer, progress)

    def instrument_checks(self, model: str, only: tuple[str, ...], models: list | None = None) -> dict:
        """Issue 25: the self-checks (failure suite) of `model`'s instruments named in `only`, computed with the
        training chapter's parameters as that chapter computes them: one that fails there decides nothing here.
        `models`: where the suite's G of another data set comes from (default: the training chapter's models)."""
        checks = training.instrument_checks(load("01_training", self.profile), model, only, models)
        return training.instrument_claims(checks, model, self.data(model))

    def data(self, model: str) -> str:
        """The data a model was trained on, described for a claim (a stand-in names what it stands in for)."""
        return describe_data(self.pack(self.models[model]["data"]).meta, self.profile)

    def summary(self) -> str:
        """One line: the profile and the chapter's settings (paths are by convention, so none is printed)."""
        skip = {"notebook", "profile", "device"}
        return f"profile {self.profile} on {self.device}: " + ", ".join(
            f"{f.name}={getattr(self, f.name)}" for f in fields(self) if f.name not in skip)

    def _model(self, name: str, what: str) -> None:
        if name not in self.models:
            raise ParameterError(f"parameter {what}={name!r} is not a model of profile {self.profile!r}; "
                                 f"valid: {', '.join(self.models)}")

    def _pack(self, name: str, what: str) -> None:
        if name not in self.packs:
            raise ParameterError(f"parameter {what}={name!r} is not a pack of profile {self.profile!r}; "
                                 f"valid: {', '.join(self.packs)}")

    def _pack_meta(self, name: str) -> dict | None:
        """meta.json of a pack of the profile, or None when it is not packed yet (checked again when it is)."""
        meta = Path(self.packs[name]) / "meta.json"
        return json.loads(meta.read_text()) if meta.is_file() else None

    def _pack_size(self, name: str) -> int | None:
        """Images in a pack of the profile, or None when it is not packed yet."""
        meta = self._pack_meta(name)
        return None if meta is None else meta["count"]

    def _seeds(self, seeds) -> None:
        if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
            raise ParameterError(f"parameter seeds={seeds!r} must be a non-empty list of integer seeds")


@dataclass(frozen=True, kw_only=True)
class TrainingParams(Chapter):
    """Sec. 4-4.1: `train_models` trained and read on `seeds`; `widths` beside them, each the recipe of the train
    model of its data at another width (ngf/ndf), read by the same claims at the same images seen."""
    train_models: list
    seeds: list
    n_samples: int
    inception_weights: str | None = None  # path of pt_inception-2015-12-05-6726825d.pth: adds the standard FID
    widths: list = field(default_factory=list)  # issue 27's scale axis: a train model's recipe at another width
    minimums = {"n_samples": (10, " (samples per metric)")}

    def check(self) -> None:
        for m in self.train_models:
            self._model(m, "train_models")
        for m in self.widths:
            self._model(m, "widths")
            self.width_of(m)
        self._seeds(self.seeds)
        if self.inception_weights is not None and not Path(self.inception_weights).is_file():
            raise ParameterError(f"parameter inception_weights={self.inception_weights!r}: no such file "
                                 "(download torch-fidelity's weights-inception-2015-12-05 file, or pass None)")

    def width_of(self, model: str) -> str:
        """The train model a `widths` model is the width variant of: same data and recipe, only ngf/ndf differ."""
        entry = self.models[model]
        for base in (m for m in self.train_models if m != model):
            other = self.models[base]
            if {k for k in {*entry, *other} if entry.get(k) != other.get(k)} <= {"ngf", "ndf"}:
                return base
        raise ParameterError(f"parameter widths names {model!r}, which is no train model's entry with only ngf/ndf "
                             f"changed (train_models: {self.train_models}); a width axis changes the width alone")


@dataclass(frozen=True, kw_only=True)
class WalkParams(Chapter):
    model: str
    seeds: list
    n_anchors: int = paper.WALK_ANCHORS  # Sec. 6.1 / Fig. 4: a series of 9 random points in Z
    steps: int
    repeats: int
    minimums = {"n_anchors": (2, " (paper: 9)"), "steps": (3, " (frames per segment)"), "repeats": (1, "")}

    def check(self) -> None:
        self._model(self.model, "model")
        self._seeds(self.seeds)


@dataclass(frozen=True, kw_only=True)
class ProbeParams(Chapter):
    gan_model: str
    seeds: list
    labelled_pack: str
    test_pack: str
    n_val: int
    per_class: list = field(default_factory=lambda: [None, 400])  # Table 1: all labels, 400 per class (None: all)
    c_grid: list = field(default_factory=lambda: list(C_GRID))  # the authors' C grid
    draws_per_c: int = DRAWS_PER_C  # the authors' labelled draws scored per C
    final_draws: int = FINAL_DRAWS  # the authors' test draws at the chosen C
    kmeans_centroids: int
    bn_stats: str
    minimums = {"n_val": (1, ""), "draws_per_c": (1, ""), "final_draws": (1, ""), "kmeans_centroids": (2, "")}

    def check(self) -> None:
        self._model(self.gan_model, "gan_model")
        self._seeds(self.seeds)
        self._pack(self.labelled_pack, "labelled_pack")
        self._pack(self.test_pack, "test_pack")
        if not self.per_class or not all(k is None or (isinstance(k, int) and k >= 1) for k in self.per_class):
            raise ParameterError(f"parameter per_class={self.per_class!r} must be a list of labels per class "
                                 "(integers >= 1, or None for all labels)")
        if not self.c_grid or not all(isinstance(c, (int, float)) and c > 0 for c in self.c_grid):
            raise ParameterError(f"parameter c_grid={self.c_grid!r} must be a non-empty list of positive C values")
        if self.bn_stats not in ("population", "running"):
            raise ParameterError(f"parameter bn_stats={self.bn_stats!r} must be 'population' or 'running'")


@dataclass(frozen=True, kw_only=True)
class FewLabelParams(ProbeParams):
    """Sec. 5.2: the probe chapter's parameters and the supervised CNN trained on the same label draws."""

    per_class: list = field(default_factory=lambda: [100])  # Sec. 5.2: 1000 labels, 100 per class
    supervised_trials: int = paper.SVHN_SUPERVISED_TRIALS  # Table 2: random-search trials of the supervised CNN
    supervised_draws: int  # label draws the chosen supervised trial is trained on (paired with the SVM's)
    minimums = {**ProbeParams.minimums, "supervised_trials": (1, " (paper: 64)"), "supervised_draws": (1, "")}

    def check(self) -> None:
        super().check()
        if self.supervised_draws > self.final_draws:
            raise ParameterError(f"parameter supervised_draws={self.supervised_draws!r} must be in 1..final_draws "
                                 f"({self.final_draws})")
        if self.per_class[0] is None:
            raise ParameterError("the supervised baseline needs a labelled subset size: per_class[0] is None")


@dataclass(frozen=True, kw_only=True)
class DedupParams(Chapter):
    model: str  # whose training pack is de-duplicated and whose judge gives the feature-space baseline
    clean_pack: str  # held-out images the near duplicates are planted into
    seeds: list  # hasher seeds, and training seeds of the memorisation experiment
    per_transform: int  # planted copies per transformation
    radii: list  # Hamming radii measured beside exact collisions
    inspect_pairs: int  # collision pairs shown for the visual inspection
    dup_unique: int  # memorisation experiment: distinct training images ...
    dup_sources: int  # ... of which this many are duplicated ...
    dup_copies: int  # ... this many times each (transformed copies)
    dup_steps: int  # training steps of each model in the experiment
    n_samples: int
    minimums = {"per_transform": (10, ""), "inspect_pairs": (1, " (paper's protocol: >= 200)"),
                "dup_unique": (100, ""), "dup_sources": (1, ""), "dup_copies": (1, ""), "dup_steps": (1, ""),
                "n_samples": (10, "")}

    def check(self) -> None:
        self._model(self.model, "model")
        self._pack(self.clean_pack, "clean_pack")
        self._seeds(self.seeds)
        if not self.radii or not all(isinstance(r, int) and 0 <= r <= MAX_RADIUS for r in self.radii) \
                or self.radii[0] != 0:
            raise ParameterError(f"parameter radii={self.radii!r} must list Hamming radii in 0..{MAX_RADIUS}, "
                                 "starting with 0 (the paper's exact collision)")
        if self.dup_sources > self.dup_unique:
            raise ParameterError(f"parameter dup_sources={self.dup_sources} must be <= dup_unique={self.dup_unique}")
        if self.dup_unique + self.dup_sources * self.dup_copies < MIN_FIT:
            raise ParameterError(f"parameters dup_unique + dup_sources x dup_copies = "
                                 f"{self.dup_unique + self.dup_sources * self.dup_copies} must be >= {MIN_FIT} (the "
                                 "set is de-duplicated by the autoencoder, which needs that many images to fit)")
        n_clean = self._pack_size(self.clean_pack)
        planted = len(TRANSFORMS) * self.per_transform
        if n_clean is not None and (planted > n_clean or n_clean + planted < MIN_FIT):
            raise ParameterError(f"parameter per_transform={self.per_transform}: {planted} planted copies need as many "
                                 f"distinct images of clean_pack={self.clean_pack!r} ({n_clean}), and the planted set "
                                 f"at least {MIN_FIT} images to fit the autoencoder on")
        n_train = self._pack_size(self.models[self.model]["data"])
        if n_train is not None and self.dup_unique > n_train:
            raise ParameterError(f"parameter dup_unique={self.dup_unique} must be <= the {n_train} images of "
                                 f"{self.models[self.model]['data']!r}")


@dataclass(frozen=True, kw_only=True)
class GuidedParams(Chapter):
    model: str  # the rooms model: its D, and held-out images with object boxes
    seeds: list
    n_images: int  # held-out images each feature's most responsive ones are drawn from
    top: int  # most responsive images per feature that its saliency is measured on
    n_check: int  # images of the randomisation check
    minimums = {"n_images": (10, ""), "top": (5, " (the per-class test needs >= 5 images)"), "n_check": (1, "")}

    def check(self) -> None:
        self._model(self.model, "model")
        self._seeds(self.seeds)
        if self.top > self.n_images:
            raise ParameterError(f"parameter top={self.top} must be <= n_images={self.n_images}")


@dataclass(frozen=True, kw_only=True)
class WindowParams(Chapter):
    model: str  # the rooms model: its G, its training pack's boxes for the detector, its judge for FD
    seeds: list
    layer: int = -2  # Sec. 6.3.1: G's hidden layer whose maps are fit and dropped, the "second-highest"
    n_fit: int = paper.WINDOW_SAMPLES  # Sec. 6.3.1: samples the logistic regression is fit on
    n_eval: int  # paired z the intervention is counted on
    n_random: int  # random draws of as many maps (the control)
    minimums = {"n_fit": (10, " (paper: 150)"), "n_eval": (10, ""), "n_random": (2, " (the rank test needs draws)")}

    def check(self) -> None:
        self._model(self.model, "model")
        self._seeds(self.seeds)
        n = len(runs.entry_model(self.models[self.model]).g_widths())
        if not isinstance(self.layer, int) or isinstance(self.layer, bool) or not -n <= self.layer < n:
            raise ParameterError(f"parameter layer={self.layer!r} must index G's {n} hidden layers: 0..{n - 1} or "
                                 f"-{n}..-1 (-2: the paper's second-highest)")
        meta = self._pack_meta(self.models[self.model]["data"])
        classes = None if meta is None else meta.get("box_classes")
        if classes is not None and "window" not in classes:
            raise ParameterError(f"model={self.model!r}: its training pack's boxes have no 'window' class "
                                 f"({', '.join(classes)}); the chapter removes windows")


@dataclass(frozen=True, kw_only=True)
class ArithmeticParams(Chapter):
    model: str  # the faces model: its G, and its training pack's factors for the judge
    seeds: list
    n_pool: int  # generated samples the exemplars are picked from
    draws: int  # random exemplar draws per equation (every method decodes the same draws)
    k: int = paper.ARITHMETIC_EXEMPLARS  # Sec. 6.3.2: exemplars averaged per concept
    k_sweep: list  # the exemplar counts the effect of k is measured at
    turn_k: int = paper.TURN_EXEMPLARS  # Fig. 8: left- and right-looking samples averaged for the turn vector
    turn_lines: int  # random samples the turn vector is added to
    turn_steps: int  # positions along each line, from -1 to 1 times the vector
    minimums = {"n_pool": (100, ""), "draws": (2, " (the paired interval needs draws)"), "k": (1, " (paper: 3)"),
                "turn_k": (1, " (paper: 4)"), "turn_lines": (1, ""), "turn_steps": (3, "")}

    def check(self) -> None:
        self._model(self.model, "model")
        self._seeds(self.seeds)
        ok = isinstance(self.k_sweep, list) and self.k_sweep and all(
            isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in self.k_sweep)
        if not ok or 1 not in self.k_sweep or self.k not in self.k_sweep:
            raise ParameterError(f"parameter k_sweep={self.k_sweep!r} must be a list of exemplar counts >= 1 that "
                                 f"includes 1 (the single-sample baseline) and k={self.k}")
        meta = self._pack_meta(self.models[self.model]["data"])
        if meta is not None and not meta.get("attribute_names"):
            raise ParameterError(f"model={self.model!r}: its training pack has no face attributes; the chapter "
                                 "needs a faces set (synth-faces or CelebA)")


@dataclass(frozen=True, kw_only=True)
class GuidelineParams(Chapter):
    datasets: list  # the DCGAN of each data set (profile models); every variant is trained beside it
    seeds: list  # training seeds of every arm (issue 26: >= 5)
    control_seeds: list  # the negative control: the DCGAN again on these seeds, disjoint from `seeds`
    n_samples: int  # samples per snapshot in the judge's space
    high_res: list = field(default_factory=list)  # models at a second resolution: DCGAN and HIGH_RES_VARIANTS only
    variants: list = field(default_factory=lambda: list(guidelines.VARIANTS))  # Sec. 3-4: one guideline undone each
    long_runs: list = field(default_factory=list)  # Sec. 7's late collapse: the training chapter's longest models
    long_seeds: list = field(default_factory=list)  # ...at these seeds (the training chapter's)
    minimums = {"n_samples": (50, " (diversity and FD need samples)")}

    def check(self) -> None:
        if not self.datasets:
            raise ParameterError("parameter datasets=[] names no model: give the DCGAN of at least one data set")
        for m in (*self.datasets, *self.high_res, *self.long_runs):
            self._model(m, "datasets" if m in self.datasets else "high_res" if m in self.high_res else "long_runs")
        for m in (*self.datasets, *self.high_res):  # oscillation and freezing read a snapshot every fifth of a run
            entry = self.models[m]
            if "epochs" in entry and sorted(entry.get("snapshot_epochs", [])) != guidelines.schedule(entry["epochs"]):
                raise ParameterError(f"model {m} trains {entry['epochs']} epochs with snapshot_epochs "
                                     f"{entry.get('snapshot_epochs', [])}; a guideline run keeps one every fifth of "
                                     f"it: snapshot_epochs: {guidelines.schedule(entry['epochs'])}")
        if self.long_runs:
            self._seeds(self.long_seeds)
        self._seeds(self.seeds)
        self._seeds(self.control_seeds)
        if set(self.seeds) & set(self.control_seeds) or len(self.seeds) != len(self.control_seeds):
            raise ParameterError(f"parameters seeds={self.seeds} and control_seeds={self.control_seeds} must be "
                                 "disjoint and as many: the DCGAN against itself on other seeds")
        pilot = sorted(set(guidelines.PILOT_SEEDS) & {*self.seeds, *self.control_seeds})
        if pilot:
            raise ParameterError(f"seeds {pilot} chose the runs' length (guidelines.PILOT_SEEDS): a claim must not "
                                 "read the seeds its budget was chosen on; pick others")
        unknown = [v for v in self.variants if v not in guidelines.VARIANTS]
        if unknown:
            raise ParameterError(f"parameter variants names unknown variant(s) {unknown}; valid: "
                                 f"{', '.join(guidelines.VARIANTS)}")

    def instrument_checks(self, model: str, only: tuple[str, ...], models: list | None = None) -> dict:
        """The judges' self-checks, with the suite's G of another data set taken from this chapter's own DCGANs (at
        its scale: a 16-px judge needs no 32-px model of the training chapter trained for its check)."""
        return super().instrument_checks(model, only, [*self.datasets, *self.high_res] if models is None else models)

    def variant_run(self, model: str, variant: str, seed: int, progress: bool = True) -> Path:
        """The run of a model's variant (`guidelines.variant_entry`) at a seed: trained, reused, or kept as it
        stopped when its loss went non-finite (an outcome here)."""
        return pipeline.ensure_variant(model, variant, self.models[model], self.packs, self.device, self.runs_root,
                                       seed, progress)


CHAPTERS: dict[str, type[Chapter]] = {
    "00_guidelines": GuidelineParams, "01_training": TrainingParams, "02_dedup": DedupParams,
    "03_cifar_probe": ProbeParams, "04_svhn_probe": FewLabelParams, "05_latent_walks": WalkParams,
    "06_guided_backprop": GuidedParams, "07_window_removal": WindowParams, "08_face_arithmetic": ArithmeticParams,
}


def defaults(notebook: str) -> dict:
    """The chapter's paper values: the parameters a profile may leave out (it overrides only what it scales)."""
    out = {}
    for f in fields(CHAPTERS[notebook]):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return out


def names(notebook: str) -> list[str]:
    """The parameters a chapter takes (what its parameters cell may override)."""
    return [f.name for f in fields(CHAPTERS[notebook]) if f.name != "notebook"]


def load(notebook: str, profile: str, overrides: dict | None = None) -> Chapter:
    """The chapter's parameters: the profile's values, then every non-None override among `overrides`
    (a notebook passes its globals()), validated before any compute."""
    if notebook not in CHAPTERS:
        raise ParameterError(f"no parameters defined for notebook {notebook!r}; known: {', '.join(CHAPTERS)}")
    prof = pipeline.load_profile(profile)
    section = dict(prof["notebooks"].get(notebook) or {})
    valid = names(notebook)
    unknown = set(section) - set(valid)
    if unknown:
        raise ParameterError(f"profiles/{profile}.yaml: notebook {notebook!r} has unknown parameter(s) "
                             f"{sorted(unknown)}; valid: {', '.join(valid)}")
    values = {"profile": profile, "device": prof["device"], **section}
    values.update({k: v for k, v in (overrides or {}).items() if k in valid and k != "profile" and v is not None})
    missing = [f.name for f in fields(CHAPTERS[notebook]) if f.name not in values and f.name != "notebook"
               and f.default is MISSING and f.default_factory is MISSING]
    if missing:
        raise ParameterError(f"notebook {notebook!r}: missing parameter(s) {missing} in profiles/{profile}.yaml")
    return CHAPTERS[notebook](notebook=notebook, **values)
