"""What the window-removal chapter measures (Sec. 6.3.1, Fig. 6; the paper only looked).

Per training seed, as GAN Dissection counts ablations: fit the paper's logistic regression on G's layer maps from
the detector's window boxes on `n_fit` samples, drop the maps with positive weight while generating `n_eval`
paired z, and count what the detector sees before and after, beside controls run the same way: as many randomly
chosen maps (several draws), the maps with the most negative weights, every map of the layer, and the same recipe
on the layers above and below. The same study on the room renderer driven as a G with planted window maps
(`instruments.controls.PlantedWindowG`) is the positive control of both rules. Issue 27: both rules are read again
at every earlier snapshot of each run, with only the conditions they read and on fewer z (`snapshot_studies`).
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import torch

from dcgan_core.core.checkpoint import earlier_snapshots, images_seen, load_run
from dcgan_core.core.models import Generator
from dcgan_core.instruments.controls import PlantedWindowG
from dcgan_core.instruments.detector import SCORERS as DETECTOR_SCORERS
from dcgan_core.instruments.detector import (
    ObjectSegmenter,
    agreement,
    boxes_of,
    presence,
    scores,
    scores_table,
)
from dcgan_core.instruments.interventions import capture, check_g_layer, generate, regression_data, window_regression
from dcgan_core.instruments.judges import agreement_table
from dcgan_core.instruments.metrics import frechet_distance
from dcgan_core.plots import final_samples, intervention_rows, note_figure, trends
from dcgan_core.utils.streams import stream_seed
from dcgan_core.verdicts import rules
from dcgan_core.verdicts.claims import Claim, agreed_over, gated
from dcgan_core.verdicts.trend import claim_trend, per_snapshot

WINDOW = "window"
# issue 27, fixed before any snapshot was read: the z per earlier snapshot (the final G's study keeps n_eval); the
# random draws stay n_random, so the rule (the largest of as many random drops) is the same at every snapshot
SNAPSHOT_EVAL = 500


def z_batch(G: Generator, n: int, seed: int) -> torch.Tensor:
    return G.sample_z(n, generator=torch.Generator(next(G.parameters()).device).manual_seed(seed))


def fit_maps(G: Generator, detector: ObjectSegmenter, layer: int, n_fit: int, seed: int, window: int) -> dict | None:
    """Sec. 6.3.1: the regression on `n_fit` samples (paper: 150) whose window boxes the detector draws; the
    maps with weight > 0 (the paper's dropped set) and as many with the most negative weights. None when the
    detector finds no window on the samples, or windows at every location of the layer (nothing to fit)."""
    z = z_batch(G, n_fit, seed)
    masks = detector.masks(generate(G, z))
    boxes = [boxes_of(m[window]) for m in masks]
    maps = capture(G, z, layer)
    _, y = regression_data(maps, boxes, masks.shape[-1], seed)
    if not y.any() or y.all():  # no window, or windows everywhere at this layer's resolution: nothing to tell apart
        return None
    model = window_regression(maps, boxes, masks.shape[-1], seed)
    w = model.coef_[0]
    positive = np.flatnonzero(w > 0)
    negative = np.argsort(w)[:min(len(positive), int((w < 0).sum()))]  # only maps with negative weight
    return {"positive": positive, "negative": negative, "weights": w,
            "n_boxes": sum(len(b) for b in boxes), "n_images_with_boxes": sum(bool(b) for b in boxes)}


def measure(images: np.ndarray, detector: ObjectSegmenter, judge, ref_feats: np.ndarray) -> dict:
    """What the detector sees (presence per class, marked area per class) and FD in the judge's space."""
    masks = detector.masks(images)
    return {"present": presence(masks), "area": masks.sum((2, 3)),
            "fd": frechet_distance(judge.embed(images), ref_feats)}


def seed_study(G: Generator, selector: ObjectSegmenter, scorer: ObjectSegmenter, judge, ref_feats: np.ndarray,
               classes: list[str], layer: int, n_fit: int, n_eval: int, n_random: int, seed: int,
               rule_only: bool = False) -> dict:
    """Every intervention on the same n_eval z; measures per condition, the fitted maps per layer. `selector`'s
    boxes choose the maps, `scorer` counts the windows (issue 25: what one instrument selects, another scores).
    `rule_only`: only what the two rules read (no other layers, negative maps or whole layer). None when the
    selector sees no window on the fit samples of this seed's G."""
    check_g_layer(G, layer)
    window = classes.index(WINDOW)
    n_layers = len(G.config.g_widths())
    layer = layer % n_layers
    fits = {k: fit_maps(G, selector, k, n_fit, seed, window) for k in (layer - 1, layer, layer + 1)
            if 0 <= k < n_layers and (k == layer or not rule_only)}  # the paper's layer against those around it
    fits = {k: f for k, f in fits.items() if f is not None}
    if layer not in fits:
        return None
    z = z_batch(G, n_eval, stream_seed("samples", seed))
    pos = fits[layer]["positive"]
    rng = np.random.default_rng(seed)
    width = G.config.g_widths()[layer]
    negative = fits[layer]["negative"]
    conditions = {"none": (layer, []), "window maps": (layer, pos)}
    if not rule_only:
        conditions |= {"most negative maps": (layer, negative), "every map of the layer": (layer, np.arange(width))}
    conditions |= {f"random maps {i}": (layer, np.sort(rng.choice(width, len(pos), replace=False)))
                   for i in range(n_random)}
    conditions |= {f"window maps, layer {k}": (k, f["positive"]) for k, f in fits.items() if k != layer}
    out = {name: measure(generate(G, z, lay, maps), scorer, judge, ref_feats) for name, (lay, maps) in
           conditions.items()}
    return {"measures": out, "fits": fits, "layer": layer, "n_maps": len(pos), "width": width, "conditions": conditions,
            "random": [f"random maps {i}" for i in range(n_random)], "window": window}


def effects(study: dict) -> dict[str, dict]:
    """Per condition against 'none' (paired on z): window rate before/after and its drop with a t interval, window
    area, mean absolute change of the other classes' rates, FD change, and what vanished windows turned into."""
    m, w = study["measures"], study["window"]
    base = m["none"]
    others = [k for k in range(base["present"].shape[1]) if k != w]
    out = {}
    for name, cur in m.items():
        drop = base["present"][:, w].astype(float) - cur["present"][:, w]
        gone = base["present"][:, w] & ~cur["present"][:, w]
        appeared = cur["present"][gone][:, others] & ~base["present"][gone][:, others]
        out[name] = {"window_rate": float(cur["present"][:, w].mean()), "window_drop": rules.mean_ci(drop),
                     "window_area": float(cur["area"][:, w].mean()),
                     "other_change": float(np.mean(np.abs(cur["present"][:, others].mean(0)
                                                          - base["present"][:, others].mean(0)))),
                     "fd_change": cur["fd"] - base["fd"], "fd": cur["fd"],
                     "turned_into": dict(zip(others, appeared.sum(0).tolist())), "vanished": int(gone.sum())}
    return out


def effects_table(studies: dict[int, dict]) -> str:
    """Markdown: per intervention, mean over seeds (random draws averaged); the window drop's 95% interval is over
    the first seed's z."""
    first = next(iter(studies.values()))
    eff = [effects(st) for st in studies.values()]
    rnd = first["random"]
    keys = ("window_rate", "window_area", "other_change", "fd_change")

    def mean(name: str | list, key: str) -> float:
        names = name if isinstance(name, list) else [name]
        return float(np.mean([e[n][key] for e in eff for n in names]))

    rows = ["| intervention | maps dropped | window rate | window drop, 95% CI | window area (px) | other objects' "
            "rate change | FD change |", "|---|---|---|---|---|---|---|"]
    labels = [n for n in first["measures"] if n not in rnd and all(n in e for e in eff)] + [rnd]
    for name in labels:
        label = f"random maps ({len(rnd)} draws, mean)" if isinstance(name, list) else name
        rate, area, other, fd = (mean(name, k) for k in keys)
        if isinstance(name, list):
            drops = [eff[0][k]["window_drop"][0] for k in rnd]
            ci = f"{np.mean(drops):+.1%} (draws {min(drops):+.1%} to {max(drops):+.1%})"
        else:
            m, lo, hi = eff[0][name]["window_drop"]
            ci = f"{m:+.1%} [{lo:+.1%}, {hi:+.1%}]"
        rows.append(f"| {label} | {_dropped(first, 'random' if isinstance(name, list) else name)} | {rate:.1%} | "
                    f"{ci} | {area:.1f} | {other:.1%} | {fd:+.2f} |")
    return "\n".join(rows)


def _dropped(study: dict, name: str) -> str:
    """'k of n': maps dropped by a condition, of its layer's maps."""
    if name == "random":
        return f"{study['n_maps']} of {study['width']}"
    layer, maps = study["conditions"][name]
    return f"{len(maps)} of {_layer_width(study, layer)}"


def _layer_width(study: dict, layer: int) -> int:
    return len(study["fits"][layer]["weights"]) if layer in study["fits"] else study["width"]


def turned_into(studies: dict[int, dict], classes: list[str]) -> str:
    """One line: over seeds, how many windows vanished under the window-map drop and what appeared instead."""
    counts, vanished = {}, 0
    for st in studies.values():
        e = effects(st)["window maps"]
        vanished += e["vanished"]
        for k, c in e["turned_into"].items():
            counts[classes[k]] = counts.get(classes[k], 0) + c
    into = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]) if v) or "nothing"
    return f"{vanished} windows vanished over all seeds; where one did, the detector newly saw: {into}."


PLANTED = "the room renderer as a G with planted window maps"
NO_PLANTED = "no planted-map G was studied (it needs the synthetic room renderer)"


def rule_outcomes(studies: dict[int, dict]) -> dict:
    """Both rules read on a set of seed studies (the model's or the planted G's), with the numbers they read."""
    eff = [effects(st) for st in studies.values()]
    rnd = next(iter(studies.values()))["random"]
    drop = [e["window maps"]["window_drop"][0] for e in eff]
    rdrops = [[e[k]["window_drop"][0] for k in rnd] for e in eff]
    other = [e["window maps"]["other_change"] for e in eff]
    fd = [e["window maps"]["fd_change"] for e in eff]
    r_other = [[e[k]["other_change"] for k in rnd] for e in eff]
    r_fd = [[e[k]["fd_change"] for k in rnd] for e in eff]
    return {"eff": eff, "rnd": rnd, "drop": drop, "rdrops": rdrops, "other": other, "fd": fd,
            "r_other": r_other, "r_fd": r_fd, "removes": rules.removes_windows(drop, rdrops),
            "kept": rules.scene_kept(other, fd, r_other, r_fd)}


def snapshot_studies(run, selector: ObjectSegmenter, scorer: ObjectSegmenter, judge, ref_feats: np.ndarray,
                     classes: list[str], layer: int, n_fit: int, n_eval: int, n_random: int, seed: int,
                     device: str) -> dict[int, dict]:
    """Issue 27: `seed_study` of each earlier snapshot's G of a run (images seen -> study), with only what the rules
    read and on min(n_eval, SNAPSHOT_EVAL) z; a snapshot whose samples show no window to fit is left out."""
    out = {}
    for seen, name in earlier_snapshots(run, device):
        study = seed_study(load_run(run, device, name)[0], selector, scorer, judge, ref_feats, classes, layer, n_fit,
                           min(n_eval, SNAPSHOT_EVAL), n_random, seed, rule_only=True)
        if study is not None:
            out[seen] = study
    return out


def rule_trends(r: dict, seeds: list[int], at: dict[int, dict] | None, final_seen: int | None) -> dict:
    """Both rules' trends ("removes", "kept") from the final outcomes `r` (`rule_outcomes`) and the earlier
    snapshots every seed has (`at`: seed -> `snapshot_studies`)."""
    earlier = per_snapshot(at or {}, seeds)
    return {key: claim_trend(final_seen, r[key], earlier,
                             lambda studies, key=key: rule_outcomes(dict(zip(seeds, studies)))[key])
            for key in ("removes", "kept")}


def claims_over_seeds(studies: dict[int, dict], data: str, planted: dict[int, dict] | None = None,
                      at: dict[int, dict] | None = None, final_seen: int | None = None) -> list[Claim]:
    """'Dropping the window maps removes windows' and 'the rest of the scene is kept', each with its negative
    control, over the seeds whose samples show windows, and with the planted-map G's studies as the positive
    control of both when given; each with its trend over the earlier snapshots in `at` (`rule_trends`)."""
    if not studies:
        return untestable(data, [], "the detector finds no window on the generated samples of any seed")
    seeds = list(studies)
    r = rule_outcomes(studies)
    over = rule_trends(r, seeds, at, final_seen)
    eff, rnd, rdrops = r["eff"], r["rnd"], r["rdrops"]
    p = rule_outcomes(planted) if planted else None
    ctrl = rules.removes_windows([d[0] for d in rdrops], [d[1:] for d in rdrops])
    fires = Claim.decided(
        r["removes"], {"one random draw against the others": (ctrl, f"drop {np.mean([d[0] for d in rdrops]):+.1%}")},
        {PLANTED: (p["removes"], f"drop {np.mean(p['drop']):+.1%}, largest random "
                                 f"{np.mean([max(d) for d in p['rdrops']]):+.1%}")} if p else None,
        no_positive=NO_PLANTED,
        section="6.3.1", claim="dropping the window maps makes G forget to draw windows", data=data, seeds=seeds,
        trend=over["removes"],
        paper="Fig. 6: windows disappear or become doors and mirrors (150 samples, 52 hand-drawn boxes, shown)",
        ours=f"window rate {np.mean([e['none']['window_rate'] for e in eff]):.0%} -> "
             f"{np.mean([e['window maps']['window_rate'] for e in eff]):.0%} (drop {np.mean(r['drop']):+.1%})",
        baseline=f"as many random maps: drop {np.mean(rdrops):+.1%} (mean of {len(rnd)} draws per seed)",
        values={"drop": r["drop"], "random_drops": rdrops})
    every = [e["every map of the layer"] for e in eff]
    e_other, e_fd = [x["other_change"] for x in every], [x["fd_change"] for x in every]
    kept_ctrl = rules.scene_kept(e_other, e_fd, r["r_other"], r["r_fd"])
    scene = Claim.decided(
        r["kept"], {"every map of the layer dropped": (kept_ctrl, f"other objects {np.mean(e_other):.1%}, "
                                                                  f"FD {np.mean(e_fd):+.2f}")},
        {PLANTED: (p["kept"], f"other objects {np.mean(p['other']):.1%}, FD {np.mean(p['fd']):+.2f}")} if p else None,
        no_positive=NO_PLANTED,
        section="6.3.1", claim="the rest of the scene is kept when the window maps are dropped", data=data,
        seeds=seeds, trend=over["kept"],
        paper="Fig. 6: the rest of the room stays (shown)",
        ours=f"other objects' rates change {np.mean(r['other']):.1%}, FD {np.mean(r['fd']):+.2f}",
        baseline=f"as many random maps: {np.mean(r['r_other']):.1%}, FD {np.mean(r['r_fd']):+.2f}",
        values={"other_change": r["other"], "fd_change": r["fd"]})
    return [fires, scene]


def fit_summary(studies: dict[int, dict]) -> str:
    """One line per seed: what the regression was fit on and how many maps it selected, per layer."""
    lines = []
    for seed, st in studies.items():
        parts = [f"layer {k} ({len(f['weights'])} maps): {len(f['positive'])} with weight > 0"
                 for k, f in sorted(st["fits"].items())]
        f = st["fits"][st["layer"]]
        lines.append(f"- seed {seed}: {f['n_boxes']} window boxes on {f['n_images_with_boxes']} of the fit samples; "
                     + "; ".join(parts))
    return "\n".join(lines)


def seed_figure(G: Generator, study: dict, seed: int, n: int = 6):
    """Fig. 6 layout: n z (columns) that show a window, as generated / window maps dropped / random maps dropped."""

    z = z_batch(G, len(study["measures"]["none"]["present"]), stream_seed("samples", seed))
    has = np.flatnonzero(study["measures"]["none"]["present"][:, study["window"]])[:n]
    rnd = study["random"][0]
    rows = {"as generated": generate(G, z[has]),
            f"{study['n_maps']} window maps dropped": generate(G, z[has], *study["conditions"]["window maps"]),
            f"{study['n_maps']} random maps dropped ({rnd})": generate(G, z[has], *study["conditions"][rnd])}
    return intervention_rows(rows)


def untestable(data: str, seeds: list[int], why: str = "no object boxes on this profile's rooms to train the "
               "window detector on (synthetic rooms have them)") -> list[Claim]:
    """Both claims, when they cannot be counted here."""
    return [Claim.decided(rules.not_testable(why), section="6.3.1", claim=c, paper="Fig. 6", ours="-",
                          baseline="-", data=data, seeds=seeds)
            for c in ("dropping the window maps makes G forget to draw windows",
                      "the rest of the scene is kept when the window maps are dropped")]


def planted_g(G: Generator) -> PlantedWindowG:
    """The positive control's G for a trained G: the planted-map renderer with its resolution and layer widths."""
    return PlantedWindowG(G.config.resolution, G.config.g_widths()).to(next(G.parameters()).device)


def study_over_seeds(runs: dict[int, str], selector: ObjectSegmenter, scorer: ObjectSegmenter, judge,
                     ref_feats: np.ndarray, classes: list[str], layer: int, n_fit: int, n_eval: int, n_random: int,
                     device: str) -> tuple[dict[int, dict], dict[int, dict], Generator | None, list[int]]:
    """`seed_study` for each seed's run and, as the positive control, for the planted-map G of the same layer
    widths on the same seed; returns the studies, the planted G's, the first studied seed's G (for the figure)
    and the seeds left out because their samples give no window locations to fit."""

    studies, planted, first, left_out = {}, {}, None, []
    args = (judge, ref_feats, classes, layer, n_fit, n_eval, n_random)
    for seed, run in runs.items():
        G = load_run(run, device)[0]
        study = seed_study(G, selector, scorer, *args, seed)
        planted_study = seed_study(planted_g(G), selector, scorer, *args, seed)
        if planted_study is not None:
            planted[seed] = planted_study
        if study is None:
            left_out.append(seed)
            continue
        studies[seed], first = study, G if first is None else first
    return studies, planted, first, left_out


# --- the chapter ---------------------------------------------------------------------------------------------
REFERENCE_IMAGES = 2000  # held-out real rooms FD is measured against (in the judge's space)
# issue 25: one segmenter's boxes choose the window maps, the other counts the windows, both ways round; the first
# pairing is the one the figures and tables show
PAIRINGS = {"segmenter b (a selects)": ("a", "b"), "segmenter a (b selects)": ("b", "a")}
AGREEMENT_SAMPLES = 1000  # samples per seed on which the two segmenters' readings are compared
INSTRUMENTS = ("judge a", "segmenter a", "segmenter b")  # issue 25: each one's self-check gates the claims


def run(P) -> dict:
    """Sec. 6.3.1 on the profile's rooms model: the window detector, then `seed_study` of every training seed's G
    (nothing to count where the training pack has no object boxes, as on LSUN)."""
    train, heldout = P.pack(P.models[P.model]["data"]), P.pack(P.models[P.model]["heldout"])
    study = {"testable": train.boxes is not None, "data": P.data(P.model), "first_run": P.run(P.model, P.seeds[0]),
             "record": {}}
    if not study["testable"]:
        return study
    detectors = {s: P.detector(P.model, scorer=s) for s in DETECTOR_SCORERS}
    judge = P.judge(P.model)
    ref_feats = judge.embed(np.asarray(heldout.images[:REFERENCE_IMAGES]))
    runs = {seed: P.run(P.model, seed) for seed in P.seeds}  # reuses the training chapter's runs
    classes = train.meta["box_classes"]
    by_pairing = {name: study_over_seeds(runs, detectors[sel], detectors[sc], judge, ref_feats, classes, P.layer,
                                         P.n_fit, P.n_eval, P.n_random, P.device)
                  for name, (sel, sc) in PAIRINGS.items()}
    studies, planted, G0, left_out = next(iter(by_pairing.values()))
    selector, scorer = next(iter(PAIRINGS.values()))  # issue 27: the trends read the first pairing's rules
    at = {seed: snapshot_studies(runs[seed], detectors[selector], detectors[scorer], judge, ref_feats, classes,
                                 P.layer, P.n_fit, P.n_eval, P.n_random, seed, P.device) for seed in studies}
    kappas = {}
    for seed, run in runs.items():  # how alike the two segmenters read this seed's samples
        G = load_run(run, P.device)[0]
        kappas[seed] = agreement(detectors["a"], detectors["b"], generate(G, z_batch(
            G, AGREEMENT_SAMPLES, stream_seed("scorer agreement", seed))), classes)
    return {**study, "detector_scores": {s: scores(d, heldout) for s, d in detectors.items()}, "classes": classes,
            "studies": studies, "planted": planted, "G0": G0, "left_out": left_out,
            "by_pairing": {name: {"studies": v[0], "planted": v[1]} for name, v in by_pairing.items()},
            "agreement": kappas, "checks": P.instrument_checks(P.model, INSTRUMENTS), "at": at,
            "final_seen": images_seen(load_run(runs[P.seeds[0]], P.device)[2])}


def figures(study: dict, P) -> dict:
    """Fig. 6 on the first studied seed, and on the planted-map G (the positive control); the generator's samples
    where there is nothing to drop."""
    if study.get("studies"):
        seed0 = next(iter(study["studies"]))
        figs = {"fig-windows": seed_figure(study["G0"], study["studies"][seed0], seed0)}
        if study["planted"]:
            seed = seed0 if seed0 in study["planted"] else next(iter(study["planted"]))
            figs["fig-planted-windows"] = seed_figure(planted_g(study["G0"]), study["planted"][seed], seed)
        else:
            figs["fig-planted-windows"] = final_samples(study["first_run"], "no window on the planted G")
        return figs | {"fig-window-trends": trends([asdict(c) for c in claims(study, P)])}  # issue 27
    return {**{name: final_samples(study["first_run"], "no windows to drop")
               for name in ("fig-windows", "fig-planted-windows")},
            "fig-window-trends": note_figure("no windows to drop: no rule to read at the earlier snapshots")}


def tables(study: dict, P) -> dict:
    """The detector's scores, the fits, the effects and what windows turned into (or why there are none)."""
    if not study["testable"]:
        return {"detector": f"no object boxes in {P.models[P.model]['data']} - the chapter's counts are not "
                            "testable on this profile", "effects": "", "planted": "", "agreement": ""}
    left = "\n".join(f"- seed {seed}: no window locations to fit on the {P.n_fit} samples (none detected, or "
                     "everywhere); seed left out" for seed in study["left_out"])
    effects = ""
    if study["studies"]:
        effects = "\n\n".join([fit_summary(study["studies"]), effects_table(study["studies"]),
                                turned_into(study["studies"], study["classes"])])
    planted = (effects_table(study["planted"]) if study["planted"] else
               "the detector found no window on the planted-map G's samples: no positive control")
    detector = "\n\n".join(f"Segmenter {s}:\n\n{scores_table(t)}" for s, t in study["detector_scores"].items())
    return {"detector": detector, "effects": "\n\n".join(x for x in (left, effects) if x), "planted": planted,
            "agreement": agreement_table(study["agreement"])}


def claims(study: dict, P) -> list[Claim]:
    """Both claims over the seeds whose samples show windows, each read by both pairings (PAIRINGS) and
    inconclusive where the two segmenters disagree or an instrument failed its self-check; not testable without
    boxes."""
    if not study["testable"]:
        return untestable(study["data"], P.seeds)
    first = next(iter(study["by_pairing"]))  # the trends read the first pairing (`run`); `agreed` keeps its claim
    read = {name: claims_over_seeds(v["studies"], study["data"], v["planted"],
                                    **({"at": study.get("at"), "final_seen": study.get("final_seen")}
                                       if name == first else {}))
            for name, v in study["by_pairing"].items()}
    return [gated(c, study["checks"]) for c in agreed_over(read)]
