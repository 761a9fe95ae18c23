"""What each model-calling step of an Alice or Guiding run kept, read from the run's own files; for
runs that did not reach their report (the reports hold the same table).

    .venv/bin/python scripts/keep_rates.py RUN [RUN ...]

Guiding (run_guiding.sh, steps/pipeline/): src/guiding/report.py's ``step_rows``. Alice (run_alice.sh,
steps/): src/alice/report.py's ``step_rows`` for every pass the run made (alice, cascade_mid,
cascade_strong), with the run's DATASET and ANSWER_RULE. Per step: outputs, kept, the share kept,
and every rejection by its reason.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from src.alice.report import step_rows as alice_rows  # noqa: E402
from src.guiding.report import step_rows as guiding_rows  # noqa: E402
from src.keep_rates import table  # noqa: E402
from src.provenance import run_settings  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path)
    args = ap.parse_args(argv)
    for run in args.runs:
        if (run / "steps/pipeline").is_dir():
            print(f"## Guiding: {run}\n\n{table(guiding_rows(run))}\n")
        elif (run / "steps/sampling").is_dir():
            cfg = run_settings(run)
            for part in ("alice", "cascade_mid", "cascade_strong"):
                if part == "alice" or (run / "steps" / part).is_dir():
                    rows = alice_rows(cfg.get("DATASET") or "gsm8k", run, part, cfg.get("ANSWER_RULE") or "original")
                    print(f"## Alice ({part}): {run}\n\n{table(rows)}\n")
        else:
            print(f"error: {run}: neither a Guiding run (steps/pipeline) nor an Alice run (steps/sampling)", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
