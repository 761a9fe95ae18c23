"""The Guiding report on handmade graded results: the accuracy table with its averages, the
combination table (as the paper's Table 2) with the hard set at the same rate beside each
combination, the plot, and which pairs file the sets came from."""
import json

from src.guiding.report import build, main
from src.jsonio import write_jsonl

RESULTS = {"start": ([1, 0, 0, 0], [0, 0]), "hard_er0": ([1, 1, 1, 0], [1, 0]), "hard_er50": ([1, 1, 0, 0], [1, 1]),
           "sub_er50": ([1, 0, 0, 0], [0, 0]), "combo_50_10": ([1, 1, 1, 1], [1, 0]), "hard_er50_4epochs": ([0, 0, 0, 0], [1, 0])}


def make_run(tmp_path):
    for run, (a, b) in RESULTS.items():
        for bench, res in (("math500", a), ("sat", b)):
            write_jsonl(tmp_path / "outputs" / run / bench / "results.jsonl", [{"result": bool(x)} for x in res])
    return tmp_path


def test_tables_hold_the_graded_accuracies(tmp_path):
    run = make_run(tmp_path)
    text, data = build(run, ["math500", "sat"], list(RESULTS), pairs="/data/released_pairs.jsonl")
    assert "| hard 0 | 75.0 (" in text and text.split("| hard 0 |")[1].split("\n")[0].endswith("| 62.5 |")  # (75 + 50) / 2
    table2 = text.split("## Combining hard tasks with sub-tasks (as Table 2)")[1]
    rows = [line for line in table2.splitlines() if line.startswith("| (") or line.startswith("| hard")]
    assert rows == ["| (50,10) | 100.0 | 50.0 |", "| hard 50 | 50.0 | 100.0 |", "| hard 50, 4 epochs | 0.0 | 50.0 |"]
    assert data["scores"]["sub_er50"]["math500"]["graded"] == 4
    assert "Questions graded: math500 4 (paper 500), sat 2 (paper 220)." in text
    assert "another file, not the pipeline below: `/data/released_pairs.jsonl`" in text
    assert main([str(run), "--benches", "math500", "sat", "--runs", *RESULTS]) == 0
    assert (run / "er_accuracy.png").stat().st_size > 0
    assert json.loads((run / "report.json").read_text())["scores"]["combo_50_10"]["math500"]["accuracy"] == 1.0
