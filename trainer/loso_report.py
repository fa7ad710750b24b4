"""One line per left-out patient of a leave-one-source-out evaluation (trainer/choose_settings.sh --loso):
the scale-free PSNR/SSIM of the model and its margins over the training-subjects LUT and the patient's own
LUT, then the source's mean and worst margins.

    python trainer/loso_report.py LABEL LEFT_OUT_SOURCE DIRECTION SUMMARY_JSON
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def report_lines(label: str, left_out: str, direction: str, summary: dict) -> list[str]:
    section = summary.get("scale_free")
    if not section:
        raise SystemExit(f"{label} {left_out} {direction}: no scale-free scores in the summary (no MR target or mask?)")
    lines = []
    for name, s in section["per_subject"].items():
        lines.append(f"{label:>16} {left_out:>20} {direction:>12} {name:>24}: PSNR {s['sf_psnr']:.2f} SSIM {s['sf_ssim']:.3f}"
                     f"  vs LUT {s['sf_psnr'] - s.get('sf_lut_psnr', float('nan')):+.2f} dB / "
                     f"{s['sf_ssim'] - s.get('sf_lut_ssim', float('nan')):+.3f}"
                     f"  vs own LUT {s['sf_psnr'] - s['sf_own_lut_psnr']:+.2f} dB / {s['sf_ssim'] - s['sf_own_lut_ssim']:+.3f}")
    m = section["margins"]
    parts = [f"{key} mean {v['mean']:+.3f} worst {v['worst']:+.3f}" for key, v in m.items()]
    lines.append(f"{label:>16} {left_out:>20} {direction:>12} {'(source)':>24}: " + "; ".join(parts))
    return lines


def main(argv: list[str]) -> int:
    label, left_out, direction, path = argv
    print("\n".join(report_lines(label, left_out, direction, json.loads(Path(path).read_text(encoding="utf-8")))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
