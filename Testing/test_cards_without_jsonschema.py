"""A stock 3D Slicer has no jsonschema: the bundled models must still be listed and their cards read, and a
card missing a required field must still be refused with one clear message (in a child process where
jsonschema cannot be imported)."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, sys
sys.modules["jsonschema"] = None  # as in a stock Slicer: importing it fails
from GANTranslateLib.errors import GANTranslateError
from GANTranslateLib.model_card import parse_card, schema_checked
from GANTranslateLib.model_registry import list_packages
report = {"schema_checked": schema_checked(), "ids": [p.card.id for p in list_packages()]}
card = json.loads(open(sys.argv[1], encoding="utf-8").read())
for key in ("license", "normalization"):
    broken = dict(card)
    del broken[key]
    try:
        parse_card(broken, "the card")
        report[key] = None
    except GANTranslateError as error:
        report[key] = str(error)
print(json.dumps(report))
"""


def test_bundled_cards_are_read_and_broken_ones_refused_without_jsonschema() -> None:
    card = REPO / "GANTranslate" / "Resources" / "Models" / "t1-to-t2-pix2pix-2d" / "model.json"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(card)], capture_output=True, text=True, timeout=120,
                          cwd=REPO / "GANTranslate")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["schema_checked"] is False
    bundled = sorted(p.name for p in (REPO / "GANTranslate" / "Resources" / "Models").iterdir() if (p / "model.json").is_file())
    assert report["ids"] == bundled and "t1-to-t2-pix2pix-2d" in bundled
    assert report["license"] == "the card is invalid at '(top level)': 'license' is a required property; fix the card (schema version 1)"
    assert report["normalization"].startswith("the card is invalid at '(top level)': 'normalization' is a required")
    json.loads(card.read_text(encoding="utf-8"))  # the bundled card itself is well-formed JSON
