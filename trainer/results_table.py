"""Write the README's tables of bundled models from their cards: held-out scores and fast-mode error.

    python trainer/results_table.py            # prints the tables
    python trainer/results_table.py --readme   # replaces the tables between their markers in README.md
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "GANTranslate" / "Resources" / "Models"
START, END = "<!-- results-table:start -->", "<!-- results-table:end -->"
PATIENT_START, PATIENT_END = "<!-- patient-table:start -->", "<!-- patient-table:end -->"
FAST_START, FAST_END = "<!-- fast-mode-table:start -->", "<!-- fast-mode-table:end -->"
PREDICTS = {None: "the image", "input": "a correction to its input", "prior": "a correction to the LUT prior"}


def fmt(metrics: dict, key: str, digits: int = 2) -> str:
    value = metrics.get(key)
    return f"{value['mean']:.{digits}f}" if value else "–"


def restoration_cell(task: str, metrics: dict, slices: dict) -> str:
    """Denoising: the noisy input / non-local means. Super-resolution: the input is the thick slices
    interpolated by cubic spline, which is itself the classical method. Then the slices the model wins
    against that classical method."""
    if "input_psnr" not in metrics:
        return "–"
    if task == "super-resolution":
        return f"{fmt(metrics, 'input_psnr')} (cubic{won(slices, 'input')})"
    return f"{fmt(metrics, 'input_psnr')} / {fmt(metrics, 'nlm_psnr')} (NLM{won(slices, 'nlm')})"


def won(slices: dict, rival: str) -> str:
    count = slices.get(rival)
    return f"; model wins {count['won']}/{count['of']} slices" if count else ""


def cards() -> list[dict]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(MODELS.glob("*/model.json"))]


def by_patient(card: dict) -> bool:
    """Scored on held-out patients (the multi-subject MR models), not on a held-out slab of a training scan."""
    evaluations = card.get("metrics", {}).get("held_out_evaluation", {})
    return any(len(summary.get("per_subject", {})) > 1 for summary in evaluations.values())


def patient_table() -> str:
    """The MR translation models on every held-out patient: model, LUT baseline, margin, SSIM."""
    rows = ["| model | direction | held-out patient | PSNR (dB) | LUT baseline PSNR | margin (dB) | SSIM | LUT baseline SSIM |",
            "|---|---|---|---|---|---|---|---|"]
    for card in filter(by_patient, cards()):
        for direction, summary in card["metrics"]["held_out_evaluation"].items():
            for subject, s in summary["per_subject"].items():
                margin = s["psnr"] - s["baseline_psnr"] if "baseline_psnr" in s else None
                rows.append(f"| `{card['id']}` | {direction.replace('->', ' → ')} | {subject} | {s['psnr']:.2f} | "
                            f"{s.get('baseline_psnr', float('nan')):.2f} | {f'{margin:+.2f}' if margin is not None else '–'} | "
                            f"{s['ssim']:.3f} | {s.get('baseline_ssim', float('nan')):.3f} |")
            m = summary["metrics"]
            rows.append(f"| `{card['id']}` | {direction.replace('->', ' → ')} | **mean ± sd** | {m['psnr']['mean']:.2f} ± "
                        f"{m['psnr']['sd']:.2f} | {fmt(m, 'baseline_psnr')} | **{summary.get('psnr_margin_db', float('nan')):+.2f}** | "
                        f"{m['ssim']['mean']:.3f} ± {m['ssim']['sd']:.3f} | {fmt(m, 'baseline_ssim', 3)} |")
    notes = [
        "",
        "Held-out patients, never seen in training (whole patients: no session of theirs is trained on; of longitudinal patient 04, session 1 is scored): TCGA-FG-6692 (TCIA "
        "TCGA-LGG: another site than all training data, skull-stripped), Ljubljana 3D MS patient 07 (skull-stripped, "
        "MNI space) and Ljubljana longitudinal patient 04 (a raw clinical scan with the skull). Scored inside the "
        "brain mask (head mask for the raw scan), each volume divided by its own 99.5th percentile there first (MR "
        "has no intensity unit), PSNR with the real image's range as peak. The LUT baseline maps each source "
        "intensity to the mean target intensity seen for it in the training subjects, in the model's normalised "
        "units. *Slices won* (in the prose): held-out axial slices on which the model's masked error is below the LUT's. Each model is its last training step; its settings were chosen on training subjects (the inner "
        "split), never on these patients. Reproduce with `bash trainer/train_bundled_models.sh`.",
    ]
    return "\n".join(rows + notes)


def table() -> str:
    rows = ["| model | direction | network predicts | PSNR (dB) | SSIM | NMAE | LUT baseline PSNR | margin (dB) | "
            "slices won | degraded input / classical PSNR | size |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for card_path in sorted(MODELS.glob("*/model.json")):
        card = json.loads(card_path.read_text(encoding="utf-8"))
        if by_patient(card):
            continue
        evaluations = card.get("metrics", {}).get("held_out_evaluation", {})
        size_mb = (card_path.parent / "model.safetensors").stat().st_size / 1e6
        predicts = PREDICTS[card["architecture"].get("residual")]
        for direction, summary in evaluations.items():
            m = summary["metrics"]
            margin = summary.get("psnr_margin_db")
            restoration = restoration_cell(card["task"], m, summary.get("slices_won", {}))
            against_lut = summary.get("slices_won", {}).get("baseline")
            slices = f"{against_lut['won']}/{against_lut['of']}" if against_lut else "–"
            rows.append(f"| `{card['id']}` | {direction.replace('->', ' → ')} | {predicts} | {fmt(m, 'psnr')} | {fmt(m, 'ssim', 3)} | "
                        f"{fmt(m, 'nmae', 4)} | {fmt(m, 'baseline_psnr')} | {f'{margin:+.2f}' if margin is not None else '–'} | "
                        f"{slices} | {restoration} | {size_mb:.1f} MB |")
    notes = [
        "",
        "These models are scored on a held-out *slab* of a scan whose other slices they were trained on (a "
        "secondary kind of number: there is one CT template and one TCGA patient for them): the MNI templates' "
        "axial slices 40–49, or for the through-plane super-resolution model, which needs the whole z extent, a "
        "held-out sagittal slab (TCGA-FG-6692 x 70–99); inside the head mask (templates) or brain mask (TCGA). "
        "The LUT baseline maps "
        "each source intensity to the mean target intensity seen for it in the training volume, in the same "
        "normalised units as the model, so the margin is what the network adds beyond an intensity mapping; a "
        "network that predicts a correction to the LUT prior is given exactly that baseline as an input channel. "
        "*Slices won*: the held-out axial slices (with foreground) on which the model's masked error is lower "
        "than the baseline's, so a small mean margin can be told from one a few slices carry. "
        "Each model is its last training step: no checkpoint was chosen by its score on the held-out slab. "
        "Reproduce with `bash trainer/train_bundled_models.sh` (each card also records its own command).",
    ]
    return "\n".join(rows + notes)


def fast_mode_table() -> str:
    """Each bundled model's fast-mode error per precision, as its card records it (gantranslate models check-fast)."""
    rows = ["| bundled model | measured on | bf16: PSNR vs exact (dB) | bf16: mean / max abs | fp16: PSNR vs exact (dB) | "
            "fp16: mean / max abs | fast mode |", "|---|---|---|---|---|---|---|"]
    for card_path in sorted(MODELS.glob("*/model.json")):
        card = json.loads(card_path.read_text(encoding="utf-8"))
        record = card.get("fast_mode")
        if record is None:
            rows.append(f"| `{card['id']}` | not measured | – | – | – | – | refused |")
            continue
        cells = []
        for precision in ("bf16", "fp16"):
            entry = record.get(precision)
            if entry is None:
                cells += ["–", "–"]
            elif entry.get("non_finite"):
                cells += ["overflow", "–"]
            else:
                cells += [f"{entry['psnr_db']:.1f}", f"{entry['mean_abs']:.3g} / {entry['max_abs']:.3g}"]
        verdict = ", ".join(f"{p} {'allowed' if record[p]['allowed'] else 'refused'}" for p in ("bf16", "fp16") if p in record)
        volumes = ", ".join(Path(v).parent.name + "/" + Path(v).name for v in record["volumes"])
        rows.append(f"| `{card['id']}` | {record['direction'].replace('->', ' → ')} on {volumes} | " + " | ".join(cells)
                    + f" | {verdict} |")
    return "\n".join(rows)


def replace_block(content: str, start: str, end: str, text: str) -> str:
    block = f"{start}\n{text}\n{end}"
    return content[: content.index(start)] + block + content[content.index(end) + len(end):]


def main() -> None:
    patients, text, fast = patient_table(), table(), fast_mode_table()
    if "--readme" in sys.argv:
        readme = REPO / "README.md"
        content = replace_block(readme.read_text(encoding="utf-8"), PATIENT_START, PATIENT_END, patients)
        content = replace_block(content, START, END, text)
        readme.write_text(replace_block(content, FAST_START, FAST_END, fast), encoding="utf-8")
    print(patients + "\n\n" + text + "\n\n" + fast)


if __name__ == "__main__":
    main()
