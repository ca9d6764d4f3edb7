"""The reproduction pipeline: profiles, the packs and models they name, notebook parameters.

One module owns the paths, all relative to the project directory (the working directory, as for `make`):
packs in data/packed/<profile>/<name>, runs in runs/<profile>/<model>-s<seed>-<hash>, executed chapters in
book/chapters/<notebook>.ipynb with their results in book/chapters/<notebook>/.
`python -m dcgan_core.pipeline packs|params|summary ...` is what the Makefile calls.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import yaml

from .models import PRESETS

PROFILES_DIR = Path("profiles")
CHAPTERS_DIR = Path("book") / "chapters"
GENERATED_DIR = Path("book") / "generated"
PACK_KEYS = {"source", "root", "resolution", "channels", "split", "limit", "seed", "category", "crop"}
MODEL_KEYS = {"data", "heldout", "preset", "steps", "epochs", "batch_size", "lr", "seed", "overrides",
              "update_scheme", "weight_decay", "precision", "channels_last"}


class ParameterError(ValueError):
    """A notebook or profile parameter is invalid; raised before any compute."""


def load_profile(name: str) -> dict:
    """profiles/<name>.yaml, checked for the keys every notebook relies on."""
    path = PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        valid = sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))
        raise ParameterError(f"unknown profile {name!r}; valid profiles: {', '.join(valid)}")
    prof = yaml.safe_load(path.read_text())
    for key in ("device", "packs", "models", "notebooks"):
        if key not in prof:
            raise ParameterError(f"{path}: missing top-level key {key!r}")
    for pname, spec in prof["packs"].items():
        bad = set(spec) - PACK_KEYS
        if bad or "source" not in spec:
            raise ParameterError(f"{path}: pack {pname!r} needs 'source' and only keys from {sorted(PACK_KEYS)}; "
                                 f"got {sorted(spec)}")
    for mname, spec in prof["models"].items():
        bad = set(spec) - MODEL_KEYS
        if bad:
            raise ParameterError(f"{path}: model {mname!r} has unknown keys {sorted(bad)}; valid: {sorted(MODEL_KEYS)}")
        if spec.get("preset") not in PRESETS:
            raise ParameterError(f"{path}: model {mname!r} preset={spec.get('preset')!r} is unknown; "
                                 f"valid presets: {', '.join(PRESETS)}")
        for ref in ("data", "heldout"):
            if spec.get(ref) not in prof["packs"]:
                raise ParameterError(f"{path}: model {mname!r} {ref}={spec.get(ref)!r} is not a pack of this profile")
    return prof


def pack_dir(profile: str, name: str) -> Path:
    return (Path("data") / "packed" / profile / name).resolve()


def runs_dir(profile: str) -> Path:
    return (Path("runs") / profile).resolve()


def notebook_params(profile: str, notebook: str) -> dict:
    """Everything a notebook receives from papermill: its own section of the profile, plus the paths."""
    prof = load_profile(profile)
    if notebook not in prof["notebooks"]:
        raise ParameterError(f"profile {profile!r} has no parameters for notebook {notebook!r}")
    return {"profile": profile, "device": prof["device"], "out_dir": str((CHAPTERS_DIR / notebook).resolve()),
            "runs_root": str(runs_dir(profile)),
            "packs": {k: str(pack_dir(profile, k)) for k in prof["packs"]}, "models": prof["models"],
            **(prof["notebooks"][notebook] or {})}


def ensure_packs(profile: str, progress: bool = True) -> list[Path]:
    """Pack every dataset the profile names; a pack made with the same arguments is kept."""
    from .data.sources import pack_source

    out = []
    for name, spec in load_profile(profile)["packs"].items():
        path = pack_dir(profile, name)
        stamp = path / "pack-args.json"
        if stamp.is_file() and json.loads(stamp.read_text()).get("args") == spec:
            out.append(path)
            continue
        t0 = time.perf_counter()
        args = {k: v for k, v in spec.items() if k != "source"}
        pack_source(spec["source"], path, overwrite=True, progress=progress, **args)
        stamp.write_text(json.dumps({"args": spec, "seconds": round(time.perf_counter() - t0, 1)}))
        out.append(path)
    return out


def pack_times(profile: str) -> dict[str, float]:
    """Seconds each of the profile's packs took to make (as recorded when it was made)."""
    times = {}
    for name in load_profile(profile)["packs"]:
        stamp = pack_dir(profile, name) / "pack-args.json"
        if stamp.is_file():
            times[name] = json.loads(stamp.read_text()).get("seconds")
    return times


def train_config(spec: dict, packs: dict, device: str, progress: bool = True):
    """TrainConfig for a profile's model entry."""
    from .train import TrainConfig

    return TrainConfig.for_preset(
        packs[spec["data"]], spec["preset"], steps=spec.get("steps"), epochs=spec.get("epochs"),
        batch_size=spec.get("batch_size"), lr_g=spec.get("lr"), lr_d=spec.get("lr"), seed=spec.get("seed", 0),
        update_scheme=spec.get("update_scheme"), weight_decay=spec.get("weight_decay"),
        precision=spec.get("precision"), channels_last=spec.get("channels_last"),
        model_overrides=spec.get("overrides", {}), device=device, progress=progress)


def ensure_trained(name: str, spec: dict, packs: dict, device: str, runs_root: str | Path,
                   seed: int | None = None, progress: bool = True) -> Path:
    """Train a profile's model, or reuse the run whose config matches (resuming it if unfinished).

    The run directory name carries a hash of the config, so a changed config never reuses a run."""
    from .checkpoint import load_checkpoint
    from .data.packed import load_pack
    from .train import total_steps, train

    spec = {**spec, "seed": spec.get("seed", 0) if seed is None else seed}
    cfg = train_config(spec, packs, device, progress)
    data_sha = load_pack(cfg.data).meta["sha256"]
    key = hashlib.sha256(json.dumps([cfg.identity(), data_sha], sort_keys=True, default=str).encode()).hexdigest()[:8]
    run = Path(runs_root) / f"{name}-s{spec['seed']}-{key}"
    last = run / "checkpoints" / "last.pt"
    if last.is_file() and load_checkpoint(last)["step"] >= total_steps(cfg):
        return run
    train(cfg, run, resume=(run / "config.json").is_file())
    return run


def validate(params: dict, schema: dict) -> None:
    """Check parameters against {name: (type, predicate(value, params) or None, hint)}; fail before compute."""
    for name, (typ, ok, hint) in schema.items():
        if name not in params:
            raise ParameterError(f"missing parameter {name!r} ({hint})")
        value = params[name]
        if not isinstance(value, typ) or isinstance(value, bool) and typ is not bool:
            kind = " or ".join(t.__name__ for t in typ) if isinstance(typ, tuple) else typ.__name__
            raise ParameterError(f"parameter {name}={value!r} must be {kind} ({hint})")
        if ok is not None and not ok(value, params):
            raise ParameterError(f"parameter {name}={value!r} is invalid: {hint}")


def _names(models_key: str):
    return lambda v, p: all(m in p.get(models_key, {}) for m in ([v] if isinstance(v, str) else v))


_COMMON = {
    "profile": (str, None, "the profile name, e.g. cpu"),
    "device": (str, lambda v, p: v == "cpu" or v.startswith("cuda"), "cpu, cuda or cuda:N"),
    "out_dir": (str, None, "where results.json and figures go"),
    "runs_root": (str, None, "where training runs live"),
    "packs": (dict, None, "pack name -> directory"),
    "models": (dict, lambda v, p: all(isinstance(s, dict) and "preset" in s for s in v.values()),
               "model name -> spec with at least 'preset', 'data', 'heldout'"),
}
_positive = (int, lambda v, p: v >= 1, "an integer >= 1")
SCHEMAS = {
    "01_training": {**_COMMON,
                    "train_models": (list, _names("models"), "names of entries in `models`"),
                    "seeds": (list, lambda v, p: len(v) >= 1 and all(isinstance(s, int) for s in v),
                              "a non-empty list of integer seeds"),
                    "n_samples": (int, lambda v, p: v >= 10, "samples per metric, >= 10"),
                    "judge_epochs": _positive,
                    "inception_weights": ((str, type(None)), lambda v, p: v is None or Path(v).is_file(),
                                          "None, or the path of an existing Inception weights file")},
    "02_latent_walks": {**_COMMON,
                        "model": (str, _names("models"), "the name of an entry in `models`"),
                        "n_anchors": (int, lambda v, p: v >= 2, "number of random z points, >= 2 (paper: 9)"),
                        "steps": (int, lambda v, p: v >= 3, "frames per walk, >= 3"),
                        "repeats": _positive, "seed": (int, None, "an integer seed")},
}
_PROBE = {**_COMMON,
          "gan_model": (str, _names("models"), "the name of an entry in `models`"),
          "labelled_pack": (str, _names("packs"), "a pack of this profile, with labels"),
          "test_pack": (str, _names("packs"), "a pack of this profile, with labels"),
          "n_val": _positive,
          "c_grid": (list, lambda v, p: len(v) >= 1 and all(isinstance(c, (int, float)) and c > 0 for c in v),
                     "a non-empty list of positive C values"),
          "draws_per_c": _positive, "final_draws": _positive,
          "kmeans_centroids": (int, lambda v, p: v >= 2, "K of the K-means baseline, >= 2"),
          "bn_stats": (str, lambda v, p: v in ("population", "running"), "'population' or 'running'"),
          "seed": (int, None, "an integer seed")}
SCHEMAS["03_cifar_probe"] = {**_PROBE, "per_class": (list, lambda v, p: len(v) >= 1 and all(
    k is None or (isinstance(k, int) and k >= 1) for k in v), "a list of labels per class (None = all labels)")}
SCHEMAS["04_svhn_probe"] = {**_PROBE, "per_class": _positive, "supervised_trials": _positive}


def check_notebook(notebook: str, params: dict) -> dict:
    """Validate a notebook's parameters (its globals) against its schema; returns just the parameters."""
    if notebook not in SCHEMAS:
        raise ParameterError(f"no schema for notebook {notebook!r}; known: {sorted(SCHEMAS)}")
    schema = SCHEMAS[notebook]
    validate(params, schema)
    return {k: params[k] for k in schema}


def write_summary(profile: str) -> list[Path]:
    """Generate book/generated/results.md, walltimes.md (from every chapter's results.json) and bench.md
    (from the lines `make bench` appended to book/generated/bench.jsonl)."""
    from .results import bench_page, load_results, results_page, walltime_page

    results = load_results(CHAPTERS_DIR)
    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    bench_file = GENERATED_DIR / "bench.jsonl"
    bench = [json.loads(ln) for ln in bench_file.read_text().splitlines() if ln] if bench_file.is_file() else []
    pages = [GENERATED_DIR / "results.md", GENERATED_DIR / "walltimes.md", GENERATED_DIR / "bench.md"]
    pages[0].write_text(results_page(results, profile))
    pages[1].write_text(walltime_page(results, pack_times(profile)))
    pages[2].write_text(bench_page(bench))
    return pages


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dcgan_core.pipeline")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("packs", help="pack every dataset a profile needs")
    s.add_argument("profile")
    s = sub.add_parser("params", help="write a notebook's papermill parameters as YAML")
    s.add_argument("profile")
    s.add_argument("notebook")
    s.add_argument("--out", required=True)
    s = sub.add_parser("summary", help="generate the book's results and wall-time pages")
    s.add_argument("profile")
    args = p.parse_args(argv)
    try:
        if args.cmd == "packs":
            for path in ensure_packs(args.profile):
                print(f"pack ready: {path}")
        elif args.cmd == "params":
            Path(args.out).write_text(yaml.safe_dump(notebook_params(args.profile, args.notebook), sort_keys=False))
        else:
            for page in write_summary(args.profile):
                print(f"wrote {page}")
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

