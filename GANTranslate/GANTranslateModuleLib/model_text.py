"""What the panel says about a model, from its card alone (no torch, no command-line helpers).

Importable without Slicer (the stock 5.8 check shows the bundled cards on Python 3.9 without MRML).
"""
from typing import Optional

try:
    from slicer.i18n import tr as _
except ImportError:  # outside Slicer: untranslated

    def _(text: str) -> str:
        return text


def heldOutLines(metrics: dict) -> list:
    """The card's held-out scores, one line per direction (PSNR, and SSIM / MAE where the card has them)."""
    lines = []
    for direction, summary in metrics.get("held_out_evaluation", {}).items():
        found = summary.get("metrics", {})
        if "psnr" not in found:
            continue
        text = f"{direction}: PSNR {found['psnr']['mean']:.2f} dB"
        if "baseline_psnr" in found:
            text += _(" (look-up-table baseline {psnr:.2f} dB)").format(psnr=found["baseline_psnr"]["mean"])
        if "ssim" in found:
            text += f", SSIM {found['ssim']['mean']:.3f}"
        if "mae_hu" in found:
            text += f", MAE {found['mae_hu']['mean']:.1f} HU"
        lines.append(text + _(", {count} subject(s)").format(count=summary.get("scored", "?")))
    return lines


def fastModeText(card: dict) -> str:
    """What the card records of fast mode's error, for the Fast preview option."""
    record = card.get("fast_mode")
    if not record:
        return _("not measured, so it is refused")
    parts = []
    for precision in ("bf16", "fp16"):
        entry = record.get(precision)
        if entry is None:
            continue
        if entry.get("non_finite"):
            parts.append(_("{p}: overflows, refused").format(p=precision))
        else:
            parts.append(_("{p}: {psnr:.0f} dB PSNR against exact, mean difference {mean:.2g}{verdict}").format(
                p=precision, psnr=entry["psnr_db"], mean=entry["mean_abs"], verdict="" if entry["allowed"] else _(", refused")))
    return "; ".join(parts) or _("not measured, so it is refused")


NOT_CLINICAL_MARKERS = ("not for clinical", "not clinical", "research", "demonstration", "not for diagnos", "not for dose",
                        "not for treatment")


def clearedForClinicalUse(intendedUse: Optional[str]) -> bool:
    """Whether a card's intended use clears the model for clinical use: never by default (a card that states no
    intended use is not cleared), and never when the statement says research, demonstration or not clinical."""
    text = (intendedUse or "").lower()
    return bool(text) and not any(marker in text for marker in NOT_CLINICAL_MARKERS)


def describeModel(card: dict) -> str:
    """The model card as the panel shows it (rich text)."""
    heldOut = "<br>".join(heldOutLines(card.get("metrics", {})))
    rows = [f"<b>{card.get('name', card.get('id', '?'))}</b> ({card.get('id', '?')} {card.get('version', '?')})",
            _("Task: {task}; {mode}").format(task=card.get("task", "?"), mode=str(card.get("mode", "?")).upper()),
            _("Trained on: {data}").format(data=card.get("training_data", _("not stated"))),
            _("Held out: {scores}").format(scores=heldOut or _("not reported")),
            _("Fast preview: {error}").format(error=fastModeText(card)),
            _("Licence: {licence}").format(licence=card.get("license", "?"))]
    if card.get("intended_use"):
        rows.append(f"<i>{card['intended_use']}</i>")
    return "<br>".join(rows)
