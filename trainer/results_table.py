"""Write the README's table of bundled models from their cards (held-out evaluation recorded at export).

    python trainer/results_table.py            # prints the table
    python trainer/results_table.py --readme   # replaces the table between the markers in README.md
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "GANTranslate" / "Resources" / "Models"
START, END = "<!-- results-table:start -->", "<!-- results-table:end -->"
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


def table() -> str:
    rows = ["| model | direction | network predicts | PSNR (dB) | SSIM | NMAE | LUT baseline PSNR | margin (dB) | "
            "slices won | degraded input / classical PSNR | size |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for card_path in sorted(MODELS.glob("*/model.json")):
        card = json.loads(card_path.read_text())
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
        "All numbers are on data never used for training: the held-out axial slab (TCGA-FG-6692 slices 70–89, "
        "MNI templates slices 40–49), or for the through-plane super-resolution model, which needs the whole z "
        "extent, a held-out sagittal slab (TCGA-FG-6692 x 70–99); inside the brain mask (TCGA) or head mask "
        "(templates). The LUT baseline maps "
        "each source intensity to the mean target intensity seen for it in the training volume, in the same "
        "normalised units as the model, so the margin is what the network adds beyond an intensity mapping; a "
        "network that predicts a correction to the LUT prior is given exactly that baseline as an input channel. "
        "*Slices won*: the held-out axial slices (with foreground) on which the model's masked error is lower "
        "than the baseline's, so a small mean margin can be told from one a few slices carry. "
        "Each model is its last training step: no checkpoint was chosen by its score on the held-out slab. "
        "Reproduce with `bash trainer/train_bundled_models.sh` (each card also records its own command).",
    ]
    return "\n".join(rows + notes)


def main() -> None:
    text = table()
    if "--readme" in sys.argv:
        readme = REPO / "README.md"
        content = readme.read_text()
        block = f"{START}\n{text}\n{END}"
        if START in content:
            content = content[: content.index(START)] + block + content[content.index(END) + len(END):]
        else:
            content = content.replace("RESULTS_TABLE", block)
        readme.write_text(content)
    print(text)


if __name__ == "__main__":
    main()
