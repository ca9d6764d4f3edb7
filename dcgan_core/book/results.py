"""results.json: each notebook's claims (`verdicts.claims.Claim`) with provenance and wall time (`Recorder`); and
the book's results, wall-time and bench pages, generated from all of them."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from dcgan_core.plots import VERDICT_COLOURS
from dcgan_core.utils.runinfo import provenance, write_json
from dcgan_core.verdicts import history
from dcgan_core.verdicts.claims import Claim
from dcgan_core.verdicts.paper import PAPER_COMPUTE, paper_scale
from dcgan_core.verdicts.rules import MIN_SEEDS, VERDICTS
from dcgan_core.verdicts.trend import MOVING_SD


class Recorder:
    """Collects a notebook's claims and writes results.json with provenance and wall time."""

    def __init__(self, chapter: str, title: str, out_dir: str | Path, profile: str, device: str = "cpu"):
        self.chapter, self.title, self.out_dir = chapter, title, Path(out_dir)
        self.profile, self.device = profile, device
        self.claims: list[Claim] = []
        self.t0 = time.perf_counter()
        self.out_dir.mkdir(parents=True, exist_ok=True)

    def add(self, claim: Claim) -> Claim:
        self.claims.append(claim)
        return claim

    def markdown(self) -> str:
        """The chapter's claims as the chapter shows them: verdict, claim, ours, controls, rule."""
        out = []
        for c in self.claims:
            scorer = f" Read by {c.scorer}." if c.scorer else ""
            out.append(f"- **{c.verdict}**: {c.claim}. Ours: {c.ours}.{scorer} Data: {c.data or '-'}. "
                       f"Positive control: {_controls(c.controls, 'positive') or c.no_positive or 'none'}. "
                       f"Negative controls: {_controls(c.controls, 'negative') or c.no_negative or 'none'}. "
                       f"Rule (`{c.code}`): {c.rule}. Why: {c.why}.")
        return "\n".join(out)

    def conclude(self, claims: list[Claim], **extra) -> str:
        """The chapter's last step: add its claims, write results.json (with `extra`), return the claims' markdown."""
        for claim in claims:
            self.add(claim)
        self.write(**extra)
        return self.markdown()

    def write(self, **extra) -> Path:
        path = self.out_dir / "results.json"
        write_json(path, {"chapter": self.chapter, "title": self.title, "profile": self.profile,
                          "claims": [asdict(c) for c in self.claims], **extra,
                          "rules": {"version": history.RULES_VERSION, "fingerprint": history.fingerprint()},
                          "provenance": {**provenance(self.device), "profile": self.profile,
                                         "wall_time_s": round(time.perf_counter() - self.t0, 1)}})
        return path


def load_results(chapters_dir: str | Path) -> list[dict]:
    """Every chapter's results.json under chapters_dir, in chapter order."""
    return [json.loads(p.read_text()) for p in sorted(Path(chapters_dir).glob("*/results.json"))]


def _controls(controls: list[dict], kind: str) -> str:
    """The controls of one kind, each with its verdict."""
    return "; ".join(f"{x['name']}: *{x['verdict']}*" for x in controls if x.get("kind", "negative") == kind)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _detail(c: dict, r: dict) -> list[str]:
    """One claim's block: paper, data, then its three rows (positive control, negative controls, the model: each
    with what it reads and what it must read), its parts, trend, rule and code."""
    out = [f"### {c['section']}: {c['claim']}", "",
           f"**Verdict: {c['verdict']}** ({c.get('why', '')}). "
           f"Chapter: {{doc}}`{r['title']} <../chapters/{r['chapter']}>`.", "",
           f"- **Paper:** {c['paper']}", f"- **Data and protocol:** {c.get('data') or '-'}",
           f"- **The paper's data and scale:** {paper_scale(c.get('data') or '')}",
           f"- **Baseline:** {c['baseline']}"]
    if c.get("scorer"):
        out.append(f"- **Read by:** {c['scorer']} (what one scorer selects, the other scores)")
    out += ["", "| Row | What | Reads | Must |", "|---|---|---|---|"]
    paper = c.get("kind", "paper") == "paper" and c["verdict"] != "not testable at this scale"
    for kind, must in (("positive", "pass"), ("negative", "fail a part the claim passes")):
        shown = [x for x in c.get("controls", []) if x.get("kind", "negative") == kind]
        out += [f"| {kind} control: {_cell(x['name'])} | {_cell(x['ours'])} | *{x['verdict']}* "
                f"({_cell(x['why'])}) | {must} |" for x in shown]
        if not shown and paper:
            out.append(f"| {kind} control | none: {_cell(c.get(f'no_{kind}') or '-')} | - | {must}; without it "
                       "the claim is inconclusive whatever its rule reads |")
    out += [f"| the model | {_cell(c['ours'])} (seeds {c.get('seeds') or '-'}) | **{c['verdict']}** | "
            f"{'the claim' if paper else '-'} |", ""]
    for p in c.get("parts", []):
        out.append(f"- **Part, {p['name']}:** {p['mean']:.3g} [{p['ci95'][0]:.3g}, {p['ci95'][1]:.3g}] against "
                   f"{p['threshold']:.3g}, {p['passing']} of {p['n']} seeds pass: *{p['verdict']}*; "
                   f"{p['sensitivity']}")
    t = c.get("trend")
    if t:
        steps = ", ".join(f"{i:,}: {m:.3g} ({v})" for i, m, v in zip(t["images"], t["means"], t["verdicts"]))
        against = (f"threshold {t['threshold']:.3g}" if t.get("bar", True) else
                   "against a reference its own test reads: " + ", ".join(f"{r:.3g}" for r in t["thresholds"]))
        by = f"; read by {t['read_by']}" if t.get("read_by") else ""  # the first of two scorer pairings
        out.append(f"- **Against compute ({t['statistic']}, {against}{by}; images seen: mean, the rule's reading):** "
                   f"{steps}; *{t['reading']}*")
    out += [f"- **Rule:** {c.get('rule') or '-'}", f"- **Decided by:** `{c.get('code') or '-'}`", ""]
    return out


CHECK_WORDS = {"reproduced": "passes", "not reproduced": "fails"}  # an instrument's check is no paper claim


def _badge(verdict: str, word: str | None = None) -> str:
    """The verdict (or `word` for it) in its colour (inline HTML: the summary is read at a glance)."""
    return (f'<span style="color:white;background:{VERDICT_COLOURS[verdict]};padding:0 5px;border-radius:4px;'
            f'white-space:nowrap">{word or verdict}</span>')


def scale_table(results: list[dict]) -> list[str]:
    """What the paper's claims were tested on beside what the paper used: one row per data set of ours, with the
    images its models saw at their last snapshot (where a claim's trend records them) and the claims read on it."""
    by_data: dict[str, list[dict]] = {}
    for r in results:
        for c in r["claims"]:
            if c.get("kind", "paper") == "paper":
                by_data.setdefault(c.get("data") or "-", []).append(c)
    rows = ["| Data (ours) | Images our models saw | The paper's data and scale | Claims (sections) |",
            "|---|---|---|---|"]
    for data, claims in by_data.items():
        seen = sorted({c["trend"]["images"][-1] for c in claims if (c.get("trend") or {}).get("images")})
        sections = ", ".join(dict.fromkeys(c["section"] for c in claims))
        rows.append(f"| {_cell(data)} | {', '.join(f'{n:,}' for n in seen) or '-'} | {_cell(paper_scale(data))} | "
                    f"{sections} ({len(claims)}) |")
    return rows


def _key_number(e: dict | None) -> str:
    """The deciding part's number: mean over seeds with its interval against the threshold."""
    if not e:
        return "-"
    side = "below" if e["better"] == "lower" else "above"
    mean = e.get("mean", sum(e["per_seed"]) / len(e["per_seed"]))
    ci = f" [{e['ci95'][0]:.3g}, {e['ci95'][1]:.3g}]" if "ci95" in e else ""
    return f"{e['name']}: {mean:.3g}{ci} (threshold {e['threshold']:.3g}, {side} passes)"


def _sensitivity(e: dict | None) -> str:
    return (e or {}).get("sensitivity", "-")


def _control_number(x: dict) -> str:
    e = x.get("effect")
    value = f" {sum(e['per_seed']) / len(e['per_seed']):.3g}" if e else ""
    return f"{x['name']}{value}: {x['verdict']}"


def results_page(results: list[dict], profile: str, forest_figure: str | None = None,
                 trends_figure: str | None = None) -> str:
    """The book's results page: the forest plot (which claims held, at a glance), a one-line-per-claim summary
    (verdict in colour, the deciding statistic and where it would flip, the positive and negative controls, the
    data, the trend against compute), the trends figure, the instruments' self-checks apart, then each claim's
    data, parts, rule, controls and curve over images seen."""
    head = ("| Section | Claim | Verdict | Trend | Deciding statistic | Flips | Positive control | Negative controls "
            "| Data |")
    rule = "|---|---|---|---|---|---|---|---|---|"
    rows, checks = [head, rule], [head, rule]
    details: list[str] = []
    check_details: list[str] = []
    for r in results:
        for c in r["claims"]:
            pos = "; ".join(_control_number(x) for x in c.get("controls", []) if x.get("kind") == "positive")
            neg = "; ".join(_control_number(x) for x in c.get("controls", []) if x.get("kind", "negative")
                            == "negative")
            table = checks if c.get("kind") == "self-check" else rows
            if not pos:
                pos = "-" if c.get("kind") == "self-check" else f"none: {c.get('no_positive') or '-'}"
            if not neg:
                neg = "-" if c.get("kind") == "self-check" else f"none: {c.get('no_negative') or '-'}"
            trend = f"rule: {c['trend']['reading']}" if c.get("trend") else "-"  # the rule's, before controls
            flips = _sensitivity(c.get("effect"))
            if c["verdict"] in ("inconclusive", "not testable at this scale") and flips != "-":
                flips = f"the rule's own reading (the verdict is {c['verdict']}): {flips}"
            badge = _badge(c["verdict"], CHECK_WORDS.get(c["verdict"]) if table is checks else None)
            table.append(f"| {_cell(c['section'])} | {_cell(c['claim'])} | {badge} | {_cell(trend)} | "
                         f"{_cell(_key_number(c.get('effect')))} | {_cell(flips)} | {_cell(pos)} | {_cell(neg)} | "
                         f"{_cell(c.get('data') or '-')} |")
            (check_details if table is checks else details).extend(_detail(c, r))
    forest = [] if forest_figure is None else [
        f"```{{figure}} {forest_figure}", ":name: fig-forest", "",
        "Each claim's decisive number per training seed (small dots), their mean with a 95% interval (coloured by "
        "verdict), the rule's threshold (dashed line; the passing side shaded green) and the controls' means of "
        "the same statistic (open diamonds: black negative, green positive), on each claim's own scale. A claim "
        "held where the interval sits in the green and its negative controls do not.", "```", ""]
    over_compute = [] if trends_figure is None else [
        f"```{{figure}} {trends_figure}", ":name: fig-trends", "",
        "Each claim with a trend against compute: its deciding statistic's mean over seeds at every saved snapshot "
        "(coloured by the rule's reading there), the threshold (dashed; the passing side shaded green) and the "
        "controls' final means (dotted: green positive, grey negative).", "```", ""]
    counts = {v: sum(c["verdict"] == v for r in results for c in r["claims"] if c.get("kind") != "self-check")
              for v in VERDICTS}
    tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    improving = still_improving(results)
    improving_line = (f"Still improving at this profile's last snapshot, so more compute may move them (issue 27): "
                      f"{'; '.join(improving)}." if improving else
                      "No claim's rule is still improving at this profile's last snapshot.")
    return "\n".join([
        "# Results", "",
        f"Every claim the chapters tested, for the **{profile}** profile, generated from each chapter's "
        "`results.json`. Each verdict comes from a rule in `dcgan_core.verdicts` whose thresholds are named "
        "constants there, read by one convention (`dcgan_core.verdicts.convention`): each part of a rule is the "
        "mean over training seeds with its 95% interval; *reproduced* when the interval clears the threshold, "
        "*not reproduced* when it lies on the failing side, *borderline* when it contains the threshold (with the "
        "seeds that would decide it), and *partly* only when one part of a rule holds and another fails. "
        "The same rule is applied to a positive control (something that has the property by construction: it "
        "must pass) and to negative controls (an untrained generator, a memoriser, random filters: each must "
        "fail a part of the rule that the claim passes); a control on the wrong side makes the claim "
        "*inconclusive*, and a claim without a positive control is inconclusive whatever its rule reads. A "
        f"verdict rests on at least {MIN_SEEDS} training seeds; with fewer it reads *single run*. The *Flips* "
        "column is the threshold at which the verdict would change (for an inconclusive claim, the rule's own "
        "reading's). The *Trend* column reads the same rule at every "
        "saved snapshot of the model (its controls are read at the end only): the images seen from which it passes, "
        f"or whether its deciding statistic still moved by more than {MOVING_SD:g} seed SD over the last two "
        "snapshots; the verdict stays the final snapshot's. Verdicts on stand-in data (the *Data* column; the "
        "table below it sets each beside the paper's data and scale) are about the stand-in, not the paper's data "
        "set. Each claim's block below "
        "sets out its three rows: the positive control, the negative controls and the model. "
        f"Tally of the paper's claims: {tally or 'no claims'}. Rules changed since the first book are on the "
        "{doc}`rule history <rule-history>` page.", "", improving_line, "",
        *forest, *rows, "", "What the claims were tested on, beside what the paper used:", "", *scale_table(results),
        "", *over_compute, "## The instruments' self-checks", "",
        "Checks of our own instruments (not claims of the paper, so they read *passes* or *fails*): a verdict "
        "read by an instrument is only made if its check passed; their details follow the claims'.", "", *checks,
        "", "## The claims in detail", "", *details, "## The self-checks in detail", "", *check_details])


def still_improving(results: list[dict]) -> list[str]:
    """The paper's claims whose rule does not pass yet and whose deciding statistic still moved towards passing
    over the last two snapshots (`verdicts.trend`): those more compute may move, as "section claim (verdict)"."""
    return [f"{c['section']} {c['claim']} ({c['verdict']})" for r in results for c in r["claims"]
            if c.get("kind") != "self-check" and c.get("trend") and c["trend"]["first_pass"] is None
            and c["trend"]["moving"] == "improving"]


def rule_history_page(results: list[dict]) -> str:
    """Every change to what decides a verdict, with the verdicts of this book's claims under the old rule."""
    recorded = {r.get("rules", {}).get("fingerprint") for r in results} - {None}
    out = ["# Rule history", "",
           f"Rule set version {history.RULES_VERSION} (fingerprint `{history.fingerprint()}`; this book's chapters "
           f"recorded {', '.join(f'`{f}`' for f in sorted(recorded)) or 'none'}). Every change to a rule, threshold, "
           "instrument or training budget since the first book, oldest first; below each, the verdicts of this "
           "book's claims as they are and as the old rule reads the same `results.json` (where its numbers allow).",
           ""]
    for i, ch in enumerate(history.CHANGES, 1):
        out += [f"## {i}. {ch.date}, {ch.subject} ({ch.commit})", "", f"- **Old:** {ch.old}", f"- **New:** {ch.new}",
                f"- **Why:** {ch.why}", ""]
        rows = history.old_verdicts(ch, results)
        if ch.not_recomputable:
            out += [f"Old verdicts not recomputed: {ch.not_recomputable}.", ""]
        elif rows:
            out += ["| Section | Claim | Verdict now | Under the old rule |", "|---|---|---|---|"]
            out += [f"| {_cell(c['section'])} | {_cell(c['claim'])} | {c['verdict']} | {old or 'not recomputable'} |"
                    for c, old in rows]
            out.append("")
        else:
            out += ["No claim of this book is read by this rule.", ""]
    return "\n".join(out)


def verdict_comparison(a: list[dict], b: list[dict]) -> str:
    """Markdown: every claim of two builds (e.g. two sets of training seeds) with both verdicts; a change of a
    verdict that is borderline in neither build is the convention failing its test, and is flagged."""
    def claims(results: list[dict]) -> dict:
        return {(r["chapter"], c["section"], c["claim"]): c for r in results for c in r["claims"]}
    ca, cb = claims(a), claims(b)
    rows = ["| Chapter | Section | Claim | Verdict (A) | Verdict (B) | Seeds A / B | |",
            "|---|---|---|---|---|---|---|"]
    flagged = 0
    for key in [k for k in ca if k in cb]:
        va, vb = ca[key]["verdict"], cb[key]["verdict"]
        mark = ""
        if va != vb:
            borderline = "borderline" in (va, vb)
            flagged += not borderline
            mark = "changed (one side borderline)" if borderline else "**changed**"
        rows.append(f"| {key[0]} | {key[1]} | {_cell(key[2])} | {va} | {vb} | {ca[key].get('seeds')} / "
                    f"{cb[key].get('seeds')} | {mark} |")
    only = len(set(ca) ^ set(cb))
    return "\n".join(rows + ["", f"{flagged} verdict(s) outside 'borderline' changed; {only} claim(s) in one build "
                                 "only."])


def _hardware(p: dict) -> str:
    return p["hardware"].get("gpu") or f"{p['hardware']['cpu_count']}-core CPU ({p['hardware']['cpu_capability']})"


def walltime_page(results: list[dict], pack_seconds: dict[str, float] | None = None,
                  training: dict | None = None, chapters: dict | None = None) -> str:
    """Measured wall time of packing, of the training step (every run and judge, side by side) and of each
    notebook, with the machine it ran on. When one chapters step rebuilt every chapter side by side, the total
    counts that step's wall time, not the sum of the chapters' own times (which overlapped)."""
    rows = ["| Step | Profile | Wall time (s) | Hardware | Commit |", "|---|---|---|---|---|"]
    p = results[0]["provenance"] if results else None
    if pack_seconds and p:
        rows.append(f"| packing ({', '.join(pack_seconds)}) | {p['profile']} | "
                    f"{sum(v for v in pack_seconds.values() if v):.1f} | {_hardware(p)} | - |")
    if training and p:
        rows.append(f"| training: {training['jobs']} runs, judges and detectors, {training['workers']} side by side "
                    f"({training['trained']} trained, the rest reused) | {p['profile']} | {training['seconds']} | "
                    f"{_hardware(p)} | `{training['git_commit'][:12]}` |")
    together = bool(chapters and p and {r["chapter"] for r in results} <= set(chapters["rebuilt"]))
    for r in results:
        q = r["provenance"]
        rows.append(f"| {r['title']}{' (its own time, beside the others)' * bool(together)} | {q['profile']} | "
                    f"{q['wall_time_s']} | {_hardware(q)} | `{q['git_commit'][:12]}` |")
    chapter_total = chapters["seconds"] if together else sum(r["provenance"]["wall_time_s"] for r in results)
    if together:
        rows.append(f"| the chapters, {chapters['jobs']} side by side | {p['profile']} | {chapters['seconds']} | "
                    f"{_hardware(p)} | - |")
    total = (chapter_total + sum(v for v in (pack_seconds or {}).values() if v)
             + (training["seconds"] if training and results else 0))
    rows.append(f"| **total (without the book build)** | | **{total:.0f}** | | |")
    return "\n".join(rows) + "\n"


def _preset(b: dict) -> str:
    """The preset with its model overrides, if any."""
    overrides = ", ".join(f"{k}={v}" for k, v in (b.get("overrides") or {}).items())
    return b["preset"] + (f" ({overrides})" if overrides else "")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _roofline(b: dict) -> str:
    """GFLOP per step | achieved GFLOP/s and its share of a large matmul's rate in the same precision."""
    if "gflop_per_step" not in b:  # a line from before the FLOP count
        return "- | -"
    share = 100 * b["achieved_gflops"] / b["matmul_peak_gflops"]
    return f"{b['gflop_per_step']:,} | {b['achieved_gflops']:,} ({share:.0f}% of {b['matmul_peak_gflops']:,.0f})"


def _side_by_side(b: dict) -> list[str]:
    """The rows of one `bench-side` measurement: each command's runs and its speed-up over pytorch/examples."""
    runs = len(b["seconds"]["pytorch/examples"])
    rows = ["", f"Side by side as a user runs them (`make bench EXAMPLES=...`): whole processes with start-up, "
            f"{b['steps']} steps of {b['batch_size']} at 64x64 ({b['preset']}; pytorch/examples: `main.py --dataset "
            f"fake --niter {b['niter']}`), {b.get('device', 'cpu')}, {_hardware(b)}:", "",
            "| command | " + " | ".join(f"run {i + 1} (s)" for i in range(runs)) + " | speed-up over examples |",
            "|---|" + "---|" * (runs + 1)]
    return rows + [f"| {name} | " + " | ".join(f"{t:.1f}" for t in times) + f" | {b['speedup'][name]:.2f}x |"
                   for name, times in b["seconds"].items()]


def bench_page(lines: list[dict]) -> str:
    """Throughput measured by `make bench`, or how to measure it."""
    if not lines:
        return "Not measured on this machine yet: run `make bench` (or `make bench DEVICE=cuda`).\n"
    rows = ["| preset | batch | precision | NHWC | images/s | GFLOP/step | GFLOP/s (% of matmul) | hardware |",
            "|---|---|---|---|---|---|---|---|"]
    for b in (b for b in lines if b.get("kind") is None):
        rows.append(f"| {_preset(b)} | {b['batch_size']} | {b['precision']}{' + compile' * bool(b.get('compile'))} | "
                    f"{_yes(b['channels_last'])} | {b['images_per_s']:,} | {_roofline(b)} | {_hardware(b)} |")
    split = [b for b in lines if b.get("phases_ms_per_step")]
    if split:
        heads = [f"{_preset(b)}, {b['precision']}{', NHWC' * bool(b['channels_last'])}" for b in split]
        rows += ["", "Where a step's time goes (`bench --phases`, ms per step, each phase timed after a sync):", "",
                 f"| phase | {' | '.join(heads)} |", "|---|" + "---|" * len(split)]
        rows += [f"| {k} | " + " | ".join(f"{b['phases_ms_per_step'].get(k, 0):.1f}" for b in split) + " |"
                 for k in dict.fromkeys(k for b in split for k in b["phases_ms_per_step"])]  # every line's phases
        rows.append("| **step** | " + " | ".join(f"**{sum(b['phases_ms_per_step'].values()):.1f}**" for b in split)
                    + " |")
    for b in (b for b in lines if b.get("kind") == "side-by-side"):
        rows += _side_by_side(b)
    parallel = [b for b in lines if b.get("kind") == "parallel-training"]
    if parallel:
        rows += ["", "Independent trainings side by side (`make reproduce` trains a profile's runs and judges so):", "",
                 "| preset | precision | one process, every core (images/s) | single-threaded processes (images/s) "
                 "| together / one | hardware |", "|---|---|---|---|---|---|"]
        rows += [f"| {b['preset']} | {b['precision']} | {b['one_process_images_per_s']:,} | "
                 f"{' + '.join(f'{r:,}' for r in b['side_by_side_images_per_s'])} | {b['ratio']}x | {_hardware(b)} |"
                 for b in parallel]
    svm = [b for b in lines if b.get("kind") == "svm"]
    if svm:
        rows += ["", "The probes' L2-SVM (Sec. 5): one step's fits, batched Newton solver against liblinear:", "",
                 "| fits | labels | dim | Newton (s) | liblinear (s) | speed-up | hardware |",
                 "|---|---|---|---|---|---|---|"]
        rows += [f"| {b['fits']} | {b['labels']} | {b['dim']} | {b['seconds']['newton']} | "
                 f"{b['seconds']['liblinear']} | {b['ratio']}x | {_hardware(b)} |" for b in svm]
    hashing = [b for b in lines if b.get("kind") == "dedup-hash"]
    if hashing:
        rows += ["", "De-duplication hashing (Sec. 4.1.1), fitted autoencoder streaming a memory-mapped pack:", "",
                 "| images | resolution | images/s | 3M images (LSUN) would take | hardware |", "|---|---|---|---|---|"]
        rows += [f"| {b['images']:,} | {b['resolution']} | {b['images_per_s']:,} | {b['lsun_3m_seconds']:,} s | "
                 f"{_hardware(b)} |" for b in hashing]
    search = [b for b in lines if b.get("kind") == "copy-search"]
    if search:
        rows += ["", "The memorisation copy search (Sec. 4.1): an exact index of the training set in coarse pixels, "
                 "each sample also searched mirrored; both steps grow linearly with the training set:", "",
                 "| training images | resolution | dim | index (s) | samples | search (s) | 3M images (LSUN) would "
                 "take | its index | hardware |", "|---|---|---|---|---|---|---|---|---|"]
        rows += [f"| {b['images']:,} | {b['resolution']} | {b['dim']} | {b['index_seconds']} | {b['queries']:,} | "
                 f"{b['search_seconds']} | {b['lsun_3m_seconds']:,} s | {b['lsun_3m_index_gb']} GB | {_hardware(b)} |"
                 for b in search]
    return "\n".join(rows) + "\n"


def compute_page(profiles: dict[str, list[dict] | str], training: dict[str, dict | None],
                 devices: dict[str, str] | None = None) -> str:
    """Issue 27: every profile's compute beside the paper's (`paper.PAPER_COMPUTE`): per model, images seen,
    resolution and widths; per profile, the process-hours of its last training step where it ran on this machine
    (CPU cores on a cpu profile, devices on a cuda one). `profiles`: profile -> rows {model, data, images_seen
    (None: the pack is not here), epochs, resolution, g_widths, d_widths} (`pipeline.profile_compute`), or the
    error that kept it from loading."""
    rows = ["| Profile | Model | Data | Images seen | Resolution | Widths | Note |", "|---|---|---|---|---|---|---|"]
    rows += [f"| the paper | {_cell(r['model'])} | - | {r['images_seen']:,} | {r['resolution']} | "
             f"{_cell(r['widths'])} | {_cell(r['note'])} |" for r in PAPER_COMPUTE]
    for name, models in profiles.items():
        if isinstance(models, str):
            rows.append(f"| {name} | could not be read: {_cell(models)} | | | | | |")
            continue
        for m in models:
            seen = (f"{m['images_seen']:,}" if m["images_seen"] is not None else
                    f"{m['epochs']:g} x the pack (not on this machine)")
            widths = f"G {'-'.join(map(str, m['g_widths']))}, D {'-'.join(map(str, m['d_widths']))}"
            rows.append(f"| {name} | {m['model']} | {m['data']} | {seen} | {m['resolution']} | {widths} | - |")
    hours = []
    for name, t in training.items():
        if t:
            unit = "GPU" if (devices or {}).get(name, "cpu").startswith("cuda") else "CPU"
            hours.append(f"- **{name}**: the last training step (every run, judge and detector: {t['jobs']} jobs, "
                         f"{t['trained']} trained) took {t['seconds']:,.0f} s with {t['workers']} processes side by "
                         f"side: {t['seconds'] * t['workers'] / 3600:.2f} {unit} process-hours (commit "
                         f"`{t['git_commit'][:12]}`)")
        else:
            hours.append(f"- **{name}**: not trained on this machine")
    return "\n".join(["Images seen, resolution and widths of every model each profile trains, beside the paper's. "
                      "The paper reports no training time; ours is the measured training step.", "", *rows, "",
                      *hours]) + "\n"
