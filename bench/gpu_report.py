"""bench/results-gpu.md from bench/gpu.py's results: every rate next to the measured peak it is a fraction of."""
from __future__ import annotations


def _rate(gflops: float) -> str:
    return f"{gflops / 1000:.1f} TFLOP/s" if gflops >= 1000 else f"{gflops:.1f} GFLOP/s"


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def _num(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def header(r: dict) -> list[str]:
    extra = f", CUDA {r['cuda']}, cuDNN {r['cudnn']}" if r.get("cuda") else f", {r.get('threads')} threads"
    lines = [f"# GPU benchmark{' (tiny CPU check: sizes too small to mean anything)' if r['tiny'] else ''}"
             f"{'' if r.get('complete', True) else ' (stopped before its end: the parts done so far)'}", "",
             f"{r['device']}{extra}, torch {r['torch']}; run took {r['seconds']:.0f} s of a {r['budget_s']:.0f} s budget", "",
             "| convolution peak (3x3, 256 ch) | rate | layout | contiguous | channels-last |", "|---|---|---|---|---|"]
    for p, peak in r["peaks"].items():
        lines.append(f"| {p} {tuple(peak['shape'])} | {_rate(peak['gflops'])} | {peak['layout']} | "
                     f"{_rate(peak['contiguous_gflops'])} | {_rate(peak['channels_last_gflops'])} |")
    return lines


def networks(r: dict) -> list[str]:
    lines = ["", "Slice-wise network rates (slices/s; autocast, contiguous unless named; % of the same precision's peak):", "",
             "| network | GFLOP/slice | precision | batch 1 | batch 8 | batch 32 | best: slices/s (how) | best % of peak |",
             "|---|---|---|---|---|---|---|---|"]
    for row in r.get("networks") or []:
        for p, best in row["best"].items():
            plain = {x["batch"]: x["slices_per_s"] for x in row["rates"] if x["precision"] == p
                     and x["layout"] == "contiguous" and x["weights"] != "cast" and not x["cudnn_benchmark"]}
            how = f"batch {best['batch']}, {best['layout']}, weights {best['weights']}" + \
                  (", cudnn.benchmark" if best["cudnn_benchmark"] else "")
            lines.append(f"| {row['network']} | {row['gflop_per_slice']:.2f} | {p} | "
                         + " | ".join(_num(plain.get(b)) for b in (1, 8, 32))
                         + f" | {best['slices_per_s']:.1f} ({how}) | {_pct(best.get('fraction_of_peak'))} |")
    return lines


def engine(r: dict) -> list[str]:
    lines = ["", "The engine's whole run (read, translate, write uncompressed NRRD):", "",
             "| network | volume | precision | batch | seconds | slices/s | fast vs exact (PSNR dB, max abs) |",
             "|---|---|---|---|---|---|---|"]
    for row in r.get("networks") or []:
        error = row["engine"]["fast_error"]
        measured = "–" if error is None else f"{error['precision']}: {error['psnr_db']:.1f}, {_num(error['max_abs'], 3)}"
        for run in row["engine"]["runs"]:
            lines.append(f"| {row['network']} | {'x'.join(map(str, row['engine']['volume']))} | {run['precision']} | "
                         f"{run['batch']}{' (default)' if run['default'] else ''} | {run['seconds']:.2f} | "
                         f"{run['slices_per_s']:.0f} | {measured} |")
    return lines


def pipeline(r: dict) -> list[str]:
    p = r.get("pipeline")
    if not p:
        return []
    lines = ["", f"Pipeline stages on {'x'.join(map(str, p['volume']))} ({p['network']}), each timed alone; share of the "
             f"engine's exact run ({p['engine_exact_s']:.2f} s):", "", "| stage | seconds | share |", "|---|---|---|"]
    for key, value in p.items():
        if key.endswith("_s"):
            share = p["shares_of_engine_exact"].get(key[:-2])
            lines.append(f"| {key[:-2].replace('_', ' ')} | {value:.3f} | {_pct(share)} |")
    return lines


def patch(r: dict) -> list[str]:
    p = r.get("patch")
    if not p:
        return []
    lines = ["", f"Patch-wise: {p['network']}, {'x'.join(map(str, p['volume']))} in {'x'.join(map(str, p['patch']))} windows:",
             "", "| precision | batch | seconds | voxels/s | peak GPU memory (MB) |", "|---|---|---|---|---|"]
    for run in p["runs"]:
        if "error" in run:
            lines.append(f"| {run['precision']} | {run['batch']} | {run['error']} | | |")
        else:
            lines.append(f"| {run['precision']} | {run['batch']} | {run['seconds']:.2f} | {run['voxels_per_s'] / 1e6:.1f} M | "
                         f"{_num(run['peak_device_memory_mb'], 0)} |")
    return lines


def training(r: dict) -> list[str]:
    lines = ["", "| trainer step | size | batch | mixed precision | steps/s | images/s |", "|---|---|---|---|---|---|"]
    for t in r.get("training") or []:
        if "error" in t:
            lines.append(f"| {t['setup']} | {t['size']}² | {t['batch']} | {'on' if t['amp'] else 'off'} | {t['error']} | |")
            continue
        lines.append(f"| {t['setup']} | {t['size']}² | {t['batch']} | {'on' if t['amp'] else 'off'} | "
                     f"{t['steps_per_s']:.2f} | {t['images_per_s']:.1f} |")
    return lines if r.get("training") else []


def compiled(r: dict) -> list[str]:
    if not r.get("compiled"):
        return []
    lines = ["", "| compiled | precision | mode | batch | compile (s) | slices/s | eager slices/s | × |",
             "|---|---|---|---|---|---|---|---|"]
    for c in r["compiled"]:
        lines.append(f"| {c['network']} ({c['backend']}) | {c['precision']} | {c['mode']} | {c['batch']} | "
                     f"{c['compile_s']:.1f} | {_num(c['slices_per_s'])} | {_num(c['eager_slices_per_s'])} | "
                     f"{_num(c['speedup'], 2)} |")
    return lines


def markdown(r: dict) -> str:
    lines = header(r) + networks(r) + suggestions(r) + engine(r) + pipeline(r) + patch(r) + training(r) + compiled(r)
    if r.get("errors"):
        lines += ["", "Parts that failed: " + "; ".join(r["errors"])]
    if r.get("skipped"):
        lines += ["", "Skipped for the time budget: " + "; ".join(r["skipped"])]
    return "\n".join(lines) + "\n"


VARIANTS = {"channels-last": lambda r: r["layout"] == "channels_last" and r["weights"] != "cast",
            "weights cast instead of autocast": lambda r: r["weights"] == "cast" and r["layout"] == "contiguous",
            "cuDNN benchmark mode": lambda r: r["cudnn_benchmark"]}


def swept(r: dict) -> list[str]:
    """The precisions the networks were measured in (TF32 has its peak only: it is neither exact nor fast)."""
    return [p for p in r["precisions"] if p != "tf32"]


def _plain(rate: dict) -> bool:
    return rate["layout"] == "contiguous" and rate["weights"] != "cast" and not rate["cudnn_benchmark"]


def suggested_defaults(r: dict, within: float = 0.95) -> dict:
    """What the measurements say the defaults should be, over the bundled architectures: per precision the
    smallest batch within 5 % of every network's best plain rate, and for each variant on how many
    networks it is at least 5 % faster than plain at the same batch."""
    bundled = [row for row in r.get("networks") or [] if row["network"].startswith("bundled")]
    out: dict = {"networks": len(bundled), "batch": {}, "variants": {}}
    for p in swept(r):
        needed = []
        for row in bundled:
            plain = {x["batch"]: x["slices_per_s"] for x in row["rates"] if x["precision"] == p and _plain(x)
                     and x["slices_per_s"]}
            if plain:
                needed.append(min(b for b, rate in plain.items() if rate >= within * max(plain.values())))
        out["batch"][p] = max(needed) if needed else None
        for name, test in VARIANTS.items():
            wins = 0
            for row in bundled:
                plain = {x["batch"]: x["slices_per_s"] for x in row["rates"] if x["precision"] == p and _plain(x)}
                wins += any(test(x) and x["slices_per_s"] and plain.get(x["batch"]) and
                            x["slices_per_s"] >= plain[x["batch"]] / within for x in row["rates"] if x["precision"] == p)
            out["variants"].setdefault(name, {})[p] = wins
    return out


def suggestions(r: dict) -> list[str]:
    s = suggested_defaults(r)
    if not s["networks"]:
        return []
    lines = ["", f"Suggested from this run, over the {s['networks']} bundled architectures (the code's defaults change only "
             "by hand): the smallest batch within 5 % of each network's best plain rate, and on how many networks a "
             "variant is ≥ 5 % faster than plain at the same batch:", "",
             "| precision | batch | " + " | ".join(VARIANTS) + " |", "|---|---|" + "---|" * len(VARIANTS)]
    for p in swept(r):
        lines.append(f"| {p} | {s['batch'][p]} | " + " | ".join(f"{s['variants'][v][p]} of {s['networks']}" for v in VARIANTS)
                     + " |")
    return lines


START, END = "<!-- gpu-results:start -->", "<!-- gpu-results:end -->"


def _engine_fraction(row: dict, run: dict, peaks: dict) -> str:
    name = "exact" if run["precision"] == "exact" else row["engine"]["fast_error"]["precision"]
    return _pct(run["slices_per_s"] * row["gflop_per_slice"] / peaks[name]["gflops"])


def readme_block(r: dict) -> str:
    """The README's GPU numbers: the device and its peaks, then per network the best network rate and the
    engine's whole run at its default batch, each as a fraction of the same precision's peak."""
    peaks = ", ".join(f"{p} {_rate(v['gflops'])}" for p, v in r["peaks"].items())
    side = (r.get("networks") or [{"slice": ["?"]}])[0]["slice"][0]
    lines = [f"Measured by `python bench/gpu.py` on {r['device']} (torch {r['torch']}, CUDA {r.get('cuda')}); "
             f"convolution peaks of the same run: {peaks}. Rates in slices/s of {side}² (% of the precision's peak):", "",
             "| network | network, exact: best | network, fast: best | engine, exact, default batch | engine, fast, default batch |",
             "|---|---|---|---|---|"]
    for row in r.get("networks") or []:
        fast = next((p for p in ("bf16", "fp16") if p in row["best"]), None)
        cells = [f"{b['slices_per_s']:.0f} ({_pct(b.get('fraction_of_peak'))}, batch {b['batch']})" if b else "–"
                 for b in (row["best"].get("exact"), row["best"].get(fast) if fast else None)]
        for precision in ("exact", "fast"):
            run = next((x for x in row["engine"]["runs"] if x["precision"] == precision and x["default"]), None)
            cells.append("–" if run is None else f"{run['slices_per_s']:.0f} ({_engine_fraction(row, run, r['peaks'])})")
        lines.append(f"| {row['network']} | " + " | ".join(cells) + " |")
    lines += suggestions(r)
    if r.get("skipped") or r.get("errors"):
        lines += ["", f"Not measured in that run: {len(r.get('skipped') or [])} part(s) skipped for time, "
                      f"{len(r.get('errors') or [])} failed (`bench/results-gpu.md` names them)."]
    return "\n".join(lines)


def replace_block(content: str, text: str) -> str:
    return content[: content.index(START)] + f"{START}\n{text}\n{END}" + content[content.index(END) + len(END):]


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    from pathlib import Path

    parser = argparse.ArgumentParser(description="bench/results-gpu.md (and the README's GPU block) from results")
    parser.add_argument("results", type=Path, help="results-gpu.json written by bench/gpu.py")
    parser.add_argument("--readme", type=Path, help="rewrite the block between the gpu-results markers of this file")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    if args.readme:
        args.readme.write_text(replace_block(args.readme.read_text(encoding="utf-8"), readme_block(results)),
                               encoding="utf-8")
    print(readme_block(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
