"""Sec. 5.2, Table 2: D features with 1000 labels through the authors' L2-SVM protocol, against a supervised CNN of
D's architecture trained on the same label draws, random filters, K-means and pixels."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from dcgan_core import plots
from dcgan_core.instruments.probes import PIXELS, RANDOM, TRAINED
from dcgan_core.studies import probing
from dcgan_core.verdicts import paper
from dcgan_core.verdicts.claims import Claim

STANDS_FOR = "SVHN with 1000 labels (Table 2)"
ABSOLUTE_TOLERANCE = 0.015  # how close to the paper's 22.48% an error on SVHN itself must come


def run(P) -> dict:
    """The probe study over GAN seeds with the supervised baseline, and the data it read, described."""
    scores, supervised, context, at = probing.study_over_seeds(P, supervised=True)
    data = paper.probe_data(P.pack(P.models[P.gan_model]["data"]).meta, P.pack(P.labelled_pack).meta,
                            context["n_test"], P.profile, STANDS_FOR)
    return {"scores": scores, "at": at, "supervised": supervised, "context": context, "data": data,
            "record": {"supervised": supervised, **context},
            "is_svhn": P.pack(P.labelled_pack).meta["source"] == "svhn"}


def figures(study: dict, P) -> dict:
    """Each claim's deciding statistic at every snapshot of the GANs it probes (issue 27: `plots.trends`)."""
    return {"fig-few-label-trends": plots.trends([asdict(c) for c in claims(study, P)])}


def tables(study: dict, P) -> dict:
    """What was probed, the test errors per feature set and seed, the supervised CNN, and the paper's Table 2."""
    lines = [f"- supervised CNN, seed {seed}: validation error {s['val_error']:.2%} (best of {s['n_trials']} trials: "
             f"{s['trial']}), test error over {len(s['test_errors'])} draws {np.mean(s['test_errors']):.2%}"
             for seed, s in study["supervised"].items()]
    return {"probe": probing.context_line(study["context"], study["data"]) + "\n\n"
            + probing.probe_table(study["scores"], P.per_class, P.seeds) + "\n\n" + "\n".join(lines),
            "paper": paper.paper_table(paper.TABLE2, ["test error"])}


def claims(study: dict, P) -> list[Claim]:
    """D features beat the supervised CNN, random filters, K-means and pixels with 1000 labels, each with its trend
    over the GANs' snapshots, and the paper's absolute error where the probe set is SVHN itself."""
    scores, data, k = study["scores"], study["data"], P.per_class[0]
    over = {"at": study.get("at", {}), "final_seen": study["context"].get("images_seen")}  # issue 27: trends
    out = [probing.supervised_claim(scores, study["supervised"], k, P.seeds, paper.SVHN_SUPERVISED_TRIALS, data,
                                    **over)]
    for b, text, paper_says in [
            (RANDOM, "GAN training helps: trained D features beat the same D with random filters", "implied"),
            (probing.kmeans_name(scores), "DCGAN features beat K-means with 1000 labels", "not in Table 2"),
            (PIXELS, "DCGAN features beat raw pixels with 1000 labels", f"KNN: {paper.TABLE2['KNN']} error")]:
        out.append(probing.ordering_claim(scores, TRAINED, b, k, P.seeds, "5.2", text, paper_says, data, **over))
    out.append(probing.absolute_claim(scores, k, P.seeds, paper.SVHN_DCGAN_ERROR, ABSOLUTE_TOLERANCE, study["is_svhn"],
                                      "5.2", "22.48% SVHN test error with 1000 labels",
                                      f"{paper.SVHN_DCGAN_ERROR:.2%} (text; {paper.SVHN_DCGAN_ERROR_CITED} cited)",
                                      data))
    return out
