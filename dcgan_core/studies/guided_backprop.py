"""What the guided-backprop chapter measures (Sec. 6.2, Fig. 5; the paper only looked).

Per training seed: for every feature of D's last conv layer, where the guided-backprop saliency of its maximal
response falls on its most responsive held-out rooms (`instruments.saliency.feature_study`), for the trained D, the
same D at its initial random weights (the paper's baseline), the trained D's plain gradient, a second random D (the
control that must fail), and the random D's top images' edges, plain and under a smooth random weighting (maps that
know no object: the positive control of "little discrimination", for which each feature's saliency is read against
the edge energy of its own top images); and the cascading randomisation check
(`instruments.saliency.randomisation_check`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from dcgan_core.core.checkpoint import earlier_snapshots, images_seen, load_run
from dcgan_core.core.models import Discriminator
from dcgan_core.core.train import initial_models
from dcgan_core.instruments.detector import DetectorFeatures
from dcgan_core.instruments.saliency import feature_study, randomisation_check, saliency
from dcgan_core.plots import saliency_panel
from dcgan_core.utils.streams import stream_seed
from dcgan_core.verdicts import rules
from dcgan_core.verdicts.claims import Claim
from dcgan_core.verdicts.trend import claim_trend, per_snapshot

NETS = {"trained D": "guided backprop", "random D": "guided backprop", "trained D, plain gradient": "gradient",
        "second random D (control)": "guided backprop",
        # Sec. 6.2's "little discrimination": the random D's top images' edges (every map is read against them), and
        # the same edges under a smooth random weighting, which know no object (its positive control)
        "random D, image edges": "image edges", "random D, randomly weighted edges": "weighted edges"}
_NET_OF = {"random D, image edges": "random D", "random D, randomly weighted edges": "random D"}


def seed_study(D: Discriminator, seed: int, images: np.ndarray, boxes: list | None, classes: list[str] | None, top: int,
               n_check: int, check_features: list[int]) -> dict:
    """Every net of NETS through `feature_study`, and the randomisation check of the trained D."""
    with torch.random.fork_rng():  # initial_models seeds the global generator; leave the caller's stream alone
        random_d = initial_models(D.config, seed)[1]
        second = initial_models(D.config, stream_seed("second init", seed))[1]
    nets = {"trained D": D, "random D": random_d, "trained D, plain gradient": D, "second random D (control)": second}
    nets |= {name: nets[net] for name, net in _NET_OF.items()}
    features = {name: feature_study(net.eval(), images, boxes, len(classes or []), top=top, method=NETS[name])
                for name, net in nets.items()}
    check = randomisation_check(D, images[:n_check], check_features, seed=seed)
    return {"features": features, "check": check, "nets": nets}


def selective_count(feats: list[dict]) -> int:
    """Features whose saliency concentrates on one object class beyond its area."""
    return sum(f["selective"] for f in feats)


def beyond_edges_count(feats: list[dict]) -> int:
    """Features whose saliency concentrates on one object class beyond its top images' edge energy there."""
    return sum(f["beyond_edges"]["selective"] for f in feats)


def selectivity_table(studies: dict[int, dict], classes: list[str], detector: list[dict] | None = None) -> str:
    """Markdown: per net, object-selective features (mean and per seed) beyond the class's area and beyond its
    images' edge energy, and the classes they concentrate on; the object segmenter's class maps (a control that
    fires on objects by construction) last."""
    rows = ["| features of D's last conv layer | object-selective beyond area, mean | per seed | beyond image edges, "
            "mean | per seed | energy share - area share, best class (mean) | classes (count over seeds) |",
            "|---|---|---|---|---|---|---|"]
    nets = {name: [s["features"][name] for s in studies.values()] for name in NETS}
    if detector is not None:
        nets["object segmenter's class maps (control)"] = [detector]
    for name, per_seed in nets.items():
        per, edges = [selective_count(f) for f in per_seed], [beyond_edges_count(f) for f in per_seed]
        n = len(per_seed[0])
        counts = np.bincount([f["best_class"] for feats in per_seed for f in feats if f["selective"]],
                             minlength=len(classes))
        top = ", ".join(f"{classes[k]} {counts[k]}" for k in np.argsort(-counts) if counts[k]) or "-"
        gain = np.nanmean([f["gain"] for feats in per_seed for f in feats])
        rows.append(f"| {name} | {np.mean(per) / n:.0%} of {n} | {', '.join(map(str, per))} | "
                    f"{np.mean(edges) / n:.0%} | {', '.join(map(str, edges))} | {gain * 100:+.1f} pp | {top} |")
    return "\n".join(rows)


def randomisation_table(studies: dict[int, dict]) -> str:
    """Markdown: similarity of randomised-D maps to trained-D maps per cascade step and method, mean over seeds."""
    first = next(iter(studies.values()))["check"]
    steps = first[next(iter(first))]["step"]
    rows = ["| method | " + " | ".join(f"{s}: rank corr / SSIM" for s in steps) + " |", "|---" * (len(steps) + 1) + "|"]
    for method in first:
        cells = []
        for j in range(len(steps)):
            rho = np.mean([s["check"][method]["rank correlation"][j] for s in studies.values()])
            ssim = np.mean([s["check"][method]["ssim"][j] for s in studies.values()])
            cells.append(f"{rho:.2f} / {ssim:.2f}")
        rows.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def most_selective(feats: list[dict], k: int = 6) -> list[int]:
    """The k features whose saliency concentrates most surely on one class (smallest p)."""
    return [f["feature"] for f in sorted(feats, key=lambda f: f["p"])[:k]]


def panel_rows(D: Discriminator, feats: list[dict], features: list[int], images: np.ndarray, classes: list[str],
               n_images: int = 3) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """For a figure: per feature, its n most responsive images and their guided-backprop maps."""
    rows = []
    for f in features:
        info = feats[f]
        idx = info["top"][:n_images]
        label = f"feature {f}" + (f": {classes[info['best_class']]}" if info["selective"] else "")
        rows.append((label, images[idx], saliency(D, images[idx], -1, f)))
    return rows


def snapshot_counts(run, P, images: np.ndarray, boxes: list, n_classes: int) -> dict[int, int]:
    """Issue 27: the trained D of each earlier snapshot of a run through the same `feature_study` (the same
    images, boxes and top): images seen -> its number of object-selective features."""
    return {seen: selective_count(feature_study(load_run(run, P.device, name)[1].eval(), images, boxes, n_classes,
                                                top=P.top, method=NETS["trained D"]))
            for seen, name in earlier_snapshots(run, P.device)}


def claims_over_seeds(studies: dict[int, dict], data: str, has_boxes: bool = True,
                      detector: list[dict] | None = None, at: dict[int, dict] | None = None,
                      final_seen: int | None = None) -> list[Claim]:
    """The two claims of Fig. 5, each with its controls; `detector`: the object segmenter's class maps through
    the same `feature_study`, the positive control of "fires on objects" and the negative control of "little
    discrimination". "Fires on objects" gets its trend from the earlier snapshots in `at` (seed -> `snapshot_counts`);
    random filters do not change with training."""
    seeds = list(studies)
    if not has_boxes:  # the paper profile's LSUN images carry no object boxes
        why = "the held-out images have no object boxes to score the saliency against (synthetic rooms do)"
        return [Claim.decided(rules.not_testable(why), section="6.2", claim=c, paper=p, ours="figure only",
                              baseline="-", data=data, seeds=seeds)
                for c, p in (("trained D's features fire on objects (beds, windows)", "Fig. 5 (left)"),
                             ("random filters show little to no discrimination", "Fig. 5 (right)"))]

    def counts(name: str, count=selective_count) -> tuple[list[int], list[int]]:
        feats = [studies[s]["features"][name] for s in seeds]
        return [count(f) for f in feats], [len(f) for f in feats]

    (tr, n), (rd, _), (rd2, _), (gr, _) = (counts(k) for k in (
        "trained D", "random D", "second random D (control)", "trained D, plain gradient"))
    (rd_e, _), (wt_e, _), (tr_e, _) = (counts(k, beyond_edges_count) for k in (
        "random D", "random D, randomly weighted edges", "trained D"))
    pct = lambda c: f"{np.mean(c) / n[0]:.0%} ({', '.join(map(str, c))} of {n[0]} per seed)"
    positive = {}
    if detector:  # the segmenter's maps against each seed's random D
        det = [selective_count(detector)] * len(seeds)
        positive = {"the object segmenter's class maps vs random D": (
            rules.fires_on_objects(det, rd, [len(detector)] * len(seeds), n),
            f"selective {det[0]} of {len(detector)} class maps")}
    outcome = rules.fires_on_objects(tr, rd, n)
    over = claim_trend(final_seen, outcome, per_snapshot(at or {}, seeds),
                       lambda counts: rules.fires_on_objects(counts, rd, n))
    fires = Claim.decided(
        outcome,
        {"second random D vs random D": (rules.fires_on_objects(rd2, rd, n), f"selective {pct(rd2)}")},
        positive, no_positive="no object segmenter was given", section="6.2", trend=over,
        claim="trained D's features fire on objects (beds, windows)", data=data, seeds=seeds,
        paper="Fig. 5 (left): guided backprop of the first 6 features of D's last conv layer highlights beds and "
              "windows (shown, not measured)",
        ours=f"object-selective features (saliency inside one class's boxes beyond its area): {pct(tr)}",
        baseline=f"the same D at its initial random weights: {pct(rd)}; trained D's plain gradient: {pct(gr)}",
        values={"trained": tr, "random": rd, "second_random": rd2, "gradient": gr, "n_features": n})
    negative = {}
    if detector:  # the segmenter's class maps discriminate objects by construction: the rule must say no
        # one measurement: no training seed enters the segmenter's maps, so it reads as one, not as every seed
        # passing with a zero-width interval
        det_e, m = beyond_edges_count(detector), len(detector)
        negative = {"the object segmenter's class maps": (
            rules.little_discrimination([det_e], [m]), f"selective beyond edges {det_e} of {m}; one measurement "
            "(no training seed enters it)")}
    little = Claim.decided(
        rules.little_discrimination(rd_e, n), negative,
        {"the random D's top images' edges under a smooth random weighting": (
            rules.little_discrimination(wt_e, n), f"selective beyond edges {pct(wt_e)}")},
        no_negative="no object segmenter was given", section="6.2",
        claim="random filters show little to no discrimination", data=data, seeds=seeds,
        paper="Fig. 5 (right): the same features of a D with random filters show little to no discrimination",
        ours=f"features of D at random weights whose saliency concentrates on one object class beyond its top "
             f"images' edge energy there: {pct(rd_e)}",
        baseline=f"beyond the class's area instead: {pct(rd)}; trained D beyond edges: {pct(tr_e)}",
        values={"random_beyond_edges": rd_e, "weighted_edges": wt_e, "trained_beyond_edges": tr_e, "random": rd,
                "n_features": n})
    return [fires, little]


def randomisation_summary(studies: dict[int, dict], margin: float = 0.1) -> str:
    """One sentence: do guided backprop's maps survive full randomisation more than the plain gradient's do?"""
    last = {m: np.mean([s["check"][m]["rank correlation"][-1] for s in studies.values()])
            for m in ("guided backprop", "gradient")}
    g, r = last["guided backprop"], last["gradient"]
    verdict = ("they depend on the weights about as much as the gradient's do" if g <= r + margin else
               "they stay closer to the trained maps than the gradient's: guided backprop shows the image more than "
               "the network here")
    return (f"With every conv block randomised, guided backprop's maps keep a rank correlation of {g:.2f} with the "
            f"trained D's (plain gradient: {r:.2f}; within {margin:g} counts as alike): {verdict}.")


def seed_figures(study: dict, images: np.ndarray, classes: list[str], n: int = 6) -> tuple:
    """Fig. 5 on our data: the first n features, trained D above random D; and the n most object-selective
    features of the trained D."""

    feats, nets = study["features"], study["nets"]
    first = saliency_panel({name: panel_rows(nets[name], feats[name], list(range(n)), images, classes)
                            for name in ("trained D", "random D")})
    best = most_selective(feats["trained D"], n)
    selective = saliency_panel({"trained D, most object-selective features":
                                panel_rows(nets["trained D"], feats["trained D"], best, images, classes)})
    return first, selective


# --- the chapter ---------------------------------------------------------------------------------------------
FIG5_FEATURES = 6  # Fig. 5 shows the first 6 features of D's last conv layer: the randomisation check uses them too


def run(P) -> dict:
    """Per training seed, where the saliency of each feature of D's last conv layer falls on object boxes, for the
    trained D and its baselines, and whether guided backprop's maps change when D's weights are randomised."""
    heldout = P.pack(P.models[P.model]["heldout"])
    images = np.asarray(heldout.images[:P.n_images])
    boxes = heldout.boxes[:P.n_images] if heldout.boxes else None  # the paper profile's LSUN has none
    classes = heldout.meta.get("box_classes", [])
    studies, at = {}, {}
    for seed in P.seeds:
        run = P.run(P.model, seed)  # reuses the training chapter's runs
        _, D, state = load_run(run, P.device)
        studies[seed] = seed_study(D, seed, images, boxes, classes, P.top, P.n_check, list(range(FIG5_FEATURES)))
        if boxes is not None:
            at[seed] = snapshot_counts(run, P, images, boxes, len(classes))
    detector = None
    if boxes is not None:  # the controls: features that mark objects by construction, measured the same way
        net = DetectorFeatures(P.detector(P.model)).eval()
        detector = feature_study(net, images, boxes, len(classes), top=P.top, method="guided backprop")
    return {"images": images, "classes": classes, "has_boxes": boxes is not None, "studies": studies, "at": at,
            "final_seen": images_seen(state), "detector": detector, "record": {}}


def figures(study: dict, P) -> dict:
    """Fig. 5 on the first seed (trained D above random D), and the trained D's most object-selective features."""
    first, selective = seed_figures(study["studies"][P.seeds[0]], study["images"], study["classes"], FIG5_FEATURES)
    return {"fig-first6": first, "fig-selective6": selective}


def tables(study: dict, P) -> dict:
    """Object-selective features per net, and the cascading randomisation check with its one-sentence reading."""
    studies = study["studies"]
    return {"selectivity": selectivity_table(studies, study["classes"], study.get("detector")),
            "randomisation": randomisation_table(studies) + "\n\n" + randomisation_summary(studies)}


def claims(study: dict, P) -> list[Claim]:
    """The two claims of Fig. 5 (not testable without object boxes). Not gated on segmenter a's failure suite: the
    segmenter reads no sample here, its class maps are a control whose object selectivity the ground-truth boxes
    measure on real images, so whether it sees objects in failure images bears on nothing these claims read."""
    read = claims_over_seeds(study["studies"], P.data(P.model), has_boxes=study["has_boxes"],
                             detector=study.get("detector"), at=study.get("at"), final_seen=study.get("final_seen"))
    scorer = "the held-out images' ground-truth boxes (segmenter a: the controls' class maps)"  # issue 25
    return [replace(c, scorer=scorer) for c in read]
