"""The README's table of bundled models is the one their cards give: numbers cannot drift from the cards."""
import json
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "trainer"))
import results_table  # noqa: E402


def readme_block(start: str, end: str) -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme[readme.index(start) + len(start) : readme.index(end)].strip()


def test_readme_table_is_generated_from_the_bundled_cards() -> None:
    assert readme_block(results_table.START, results_table.END) == results_table.table().strip(), \
        "run: python trainer/results_table.py --readme"


def test_readme_fast_mode_table_is_generated_from_the_bundled_cards() -> None:
    assert readme_block(results_table.FAST_START, results_table.FAST_END) == results_table.fast_mode_table().strip(), \
        "run: python trainer/results_table.py --readme"


def test_readme_patient_table_is_generated_from_the_bundled_cards() -> None:
    assert readme_block(results_table.PATIENT_START, results_table.PATIENT_END) == results_table.patient_table().strip(), \
        "run: python trainer/results_table.py --readme"


def test_every_bundled_card_records_its_bf16_and_fp16_error() -> None:
    for card_path in results_table.MODELS.glob("*/model.json"):
        record = json.loads(card_path.read_text(encoding="utf-8"))["fast_mode"]
        assert {"bf16", "fp16"} <= set(record) and record["volumes"], card_path.parent.name


def test_each_row_says_what_the_network_predicts() -> None:
    rows = {line.split(" | ")[0].strip("| `"): line for line in results_table.table().splitlines() if line.startswith("| `")}
    for card_path in results_table.MODELS.glob("*/model.json"):
        card = json.loads(card_path.read_text(encoding="utf-8"))
        if card["id"] in rows:
            assert results_table.PREDICTS[card["architecture"].get("residual")] in rows[card["id"]]


def test_every_bundled_direction_was_scored_by_the_current_evaluator() -> None:
    """Each card's held-out evaluation counts the slices won (re-score: python trainer/evaluate_bundled_models.py)."""
    for card_path in results_table.MODELS.glob("*/model.json"):
        card = json.loads(card_path.read_text(encoding="utf-8"))
        evaluations = card["metrics"]["held_out_evaluation"]
        assert [f"{s}->{t}" for s, t in card["directions"]] == list(evaluations), card["id"]
        for direction, summary in evaluations.items():
            rivals = {"baseline", "input", "nlm"} if card["task"] == "denoising" else (
                {"baseline", "input"} if card["task"] == "super-resolution" else {"baseline"})
            assert set(summary["slices_won"]) == rivals, (card["id"], direction)
            for count in summary["slices_won"].values():
                assert 0 <= count["won"] <= count["of"] and count["of"] > 0, (card["id"], direction)


def test_the_patient_table_has_a_row_per_held_out_patient_and_direction() -> None:
    rows = [line for line in results_table.patient_table().splitlines() if line.startswith("| `")]
    for card in filter(results_table.by_patient, results_table.cards()):
        for direction, summary in card["metrics"]["held_out_evaluation"].items():
            shown = direction.replace("->", " → ")
            for subject in summary["per_subject"]:
                assert any(f"`{card['id']}` | {shown} | {subject} |" in row for row in rows), (card["id"], direction, subject)
