"""Inference: zero-shot, few-shot (ICL) and temperature sampling, then grading.

    python -m src.inference --model_dir M --dev_set gsm8k_train_2 --prompt_type zero-shot \\
        --output_file_name outputs/gsm8k_train_2/zero_shot/M/zero-shot/direct/output.jsonl
    python -m src.inference ... --prompt_type few-shot --template gsm8k_my_llama2_7b_icl --demos_from WEAK/results.jsonl
    python -m src.inference ... --temperature 1.0 --num_samples 10          # -> <dir>/seed{0..9}/output.jsonl
    python -m src.inference ... --adapter ADAPTER_DIR                       # base model + LoRA, not merged

The original's flags keep working. Rows ``{id, prompt, response}``: ``id`` = the question's index
in the evaluated file, ``response`` = generated text stripped of white space and of leading and
trailing periods. Generation is written in chunks as it goes; a rerun after a crash resumes after
the last complete chunk (``--overwrite`` starts over). Every input is checked before the model
loads. Afterwards ``results.jsonl`` and ``metrics.json`` are written beside each output file
(``--no_eval`` skips grading; ``--eval_only`` only grades).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .engines import Decoding, EngineConfig, check_adapter_dir, check_model_dir, load_engine
from .eval.evaluation import gold_path, grade_file
from .eval.grader import MODES
from .jsonio import DataError, append_jsonl, read_jsonl_numbered, read_jsonl_prefix
from .prompts import DEMO_FILTERS, TEMPLATES, build_demonstrations, get_prompts, template_demo_ids


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m src.inference", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    a = ap.add_argument
    # the original's flags
    a("--model_dir", required=False, default=None, help="model folder (HF format)")
    a("--output_file_name", default="output.jsonl")
    a("--template", default="zero_shot", help=f"one of {', '.join(TEMPLATES)}")
    a("--dev_set", default=None, help="evaluate data/test/<dev_set>.jsonl")
    a("--prompt_type", default="zero-shot", choices=("zero-shot", "few-shot"))
    a("--answer_key", default="####", help="'####' (GSM8K) or 'The answer is:' (MATH)")
    a("--instruction_type", default="direct", choices=("direct",))
    a("--model_type", default="vllm", choices=("vllm", "hf"), help="the original's name for --backend")
    a("--trust_remote_code", action="store_true", help="off unless asked")
    a("--max_tokens", type=int, default=1024)
    a("--seed", type=int, default=42, help="engine seed; with --temperature > 0 and no --num_samples, the sample seed")
    a("--temperature", type=float, default=0.0)
    a("--top_p", type=float, default=1.0)
    a("--presence_penalty", type=float, default=0.0)
    a("--frequency_penalty", type=float, default=0.0)
    a("--stop", nargs="+", default=["Question", "Answer"])
    a("--max_num_batched_tokens", type=int, default=None)
    a("--eval_only", action="store_true")
    # additions
    a("--backend", choices=("vllm", "hf"), default=None, help="generation engine (default: --model_type)")
    a("--data_file", default=None, help="any eval-format file (instead of --dev_set)")
    a("--num_samples", type=int, default=None, help="N samples per question in one load -> seed{k}/output.jsonl")
    a("--seeds", type=int, nargs="+", default=None, help="explicit sample seeds (default 0..N-1)")
    a("--adapter", default=None, help="LoRA adapter folder applied to --model_dir")
    a("--demos_from", default=None, help="weak results.jsonl whose answers are the few-shot demonstrations")
    a("--demo_ids", type=int, nargs="+", default=None, help="demonstration question ids")
    a("--num_demos", type=int, default=4)
    a("--demo_seed", type=int, default=0, help="seeded random choice of demonstrations when no ids are given")
    a("--demo_filter", default="any", choices=DEMO_FILTERS)
    a("--limit", type=int, default=None, help="only the first N questions")
    a("--chunk_size", type=int, default=64, help="questions per written chunk")
    a("--batch_size", type=int, default=16, help="hf backend batch size")
    a("--max_model_len", type=int, default=None)
    a("--max_num_seqs", type=int, default=None, help="vLLM sequences in flight (CPU default 128)")
    a("--tensor_parallel_size", type=int, default=None, help="default: all visible GPUs")
    a("--dtype", default="auto")
    a("--no_eval", action="store_true")
    a("--grade_mode", default="exact", choices=MODES)
    a("--overwrite", action="store_true", help="discard existing outputs instead of resuming")
    a("--quiet", action="store_true")
    return ap.parse_args(argv)


def output_files(args) -> list[tuple[Path, int]]:
    """(output file, sample seed) pairs: one file, or seed{k}/output.jsonl per sample."""
    out = Path(args.output_file_name)
    if args.num_samples or args.seeds:
        seeds = args.seeds or list(range(args.num_samples))
        if args.num_samples and len(seeds) != args.num_samples:
            raise ValueError(f"--seeds has {len(seeds)} values but --num_samples is {args.num_samples}")
        return [(out.parent / f"seed{s}" / out.name, s) for s in seeds]
    return [(out, args.seed)]


def load_questions(args) -> tuple[Path, list[str]]:
    if not args.data_file and not args.dev_set:
        raise ValueError("give --dev_set or --data_file")
    path = Path(args.data_file) if args.data_file else gold_path(args.dev_set)
    rows = read_jsonl_numbered(path)
    questions = []
    for lineno, row in rows:
        q = row.get("question")
        if not isinstance(q, str) or not q.strip():
            raise DataError(f"{path}:{lineno}: field 'question' is missing or empty")
        questions.append(q)
    return path, questions[: args.limit] if args.limit else questions


def run(args) -> list[Path]:
    backend = args.backend or args.model_type
    data_file, questions = load_questions(args)
    files = output_files(args)
    if not args.eval_only:
        # everything is checked before the model loads
        if not args.model_dir:
            raise ValueError("--model_dir is required")
        check_model_dir(args.model_dir)
        if args.adapter:
            check_adapter_dir(args.adapter)
        demos = ""
        if args.prompt_type == "few-shot":
            ids = template_demo_ids(args.template, args.demo_ids)
            if not args.demos_from:
                raise ValueError(f"few-shot template {args.template!r} needs --demos_from <weak results.jsonl on train_2>")
            demos = build_demonstrations(args.demos_from, ids, args.num_demos, args.demo_seed, args.demo_filter)
        elif args.template not in TEMPLATES:
            raise ValueError(f"unknown template {args.template!r}; choose one of {', '.join(TEMPLATES)}")
        prompts = get_prompts(questions, demos)
        generate(args, backend, prompts, files)
    if not args.no_eval:
        for path, _ in files:
            grade_file(path, data_file, args.answer_key, args.grade_mode, quiet=args.quiet, limit=args.limit)
    return [p for p, _ in files]


def generate(args, backend: str, prompts: list[str], files: list[tuple[Path, int]]) -> None:
    from tqdm import tqdm

    done = {}
    for path, _ in files:
        if args.overwrite and path.exists():
            path.unlink()
        rows = read_jsonl_prefix(path)
        if [r.get("id") for r in rows] != list(range(len(rows))) or len(rows) > len(prompts):
            raise DataError(f"{path}: existing rows are not ids 0..{len(rows) - 1} of these questions; "
                            "use --overwrite to start over")
        if rows and any(r["prompt"] != prompts[r["id"]] for r in rows[:1] + rows[-1:]):
            raise DataError(f"{path}: existing rows were made with other prompts; use --overwrite to start over")
        done[path] = len(rows)
    todo = sum(len(prompts) - n for n in done.values())
    if todo == 0:
        print(f"[inference] all {len(prompts)} questions already generated in {len(files)} file(s)")
        return
    if any(done.values()):
        print(f"[inference] resuming: {todo} of {len(prompts) * len(files)} generations left")
    dec = Decoding(args.temperature, args.top_p, args.max_tokens, tuple(args.stop),
                   args.presence_penalty, args.frequency_penalty)
    cfg = EngineConfig(args.model_dir, args.adapter, args.seed, args.trust_remote_code, args.max_num_batched_tokens,
                       args.max_model_len, args.tensor_parallel_size, args.dtype, args.batch_size,
                       max_num_seqs=args.max_num_seqs)
    t0 = time.time()
    engine = load_engine(backend, cfg, dec)
    print(f"[inference] {backend} engine loaded in {time.time() - t0:.0f}s: {args.model_dir}"
          + (f" + adapter {args.adapter}" if args.adapter else ""))
    start = min(done.values())
    bar = tqdm(total=todo, desc="generate", unit="answer", disable=args.quiet)
    for lo in range(start, len(prompts), args.chunk_size):
        hi = min(lo + args.chunk_size, len(prompts))
        requests, owners = [], []
        for path, seed in files:
            for i in range(max(lo, done[path]), hi):
                requests.append((prompts[i], seed))
                owners.append((path, i))
        if not requests:
            continue
        texts = engine.generate(requests)
        per_file: dict[Path, list[dict]] = {}
        for (path, i), text in zip(owners, texts):
            per_file.setdefault(path, []).append({"id": i, "prompt": prompts[i], "response": text.strip().strip(".")})
        for path, rows in per_file.items():
            append_jsonl(path, rows)
            done[path] = rows[-1]["id"] + 1
        bar.update(len(requests))
    bar.close()
    print(f"[inference] {todo} answers in {time.time() - t0:.0f}s -> {', '.join(str(p) for p, _ in files[:2])}"
          + (" ..." if len(files) > 2 else ""))


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except (DataError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
