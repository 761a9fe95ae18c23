"""Inference: zero-shot, few-shot (ICL) and temperature sampling, then grading.

    python -m src.inference --model_dir M --dev_set gsm8k_train_2 --prompt_type zero-shot \\
        --output_file_name outputs/gsm8k_train_2/zero_shot/M/zero-shot/direct/output.jsonl
    python -m src.inference ... --prompt_type few-shot --template gsm8k_my_llama2_7b_icl --demos_from WEAK/results.jsonl
    python -m src.inference ... --temperature 1.0 --num_samples 10          # -> <dir>/seed{0..9}/output.jsonl
    python -m src.inference ... --adapter ADAPTER_DIR                       # base model + LoRA, not merged
    python -m src.inference --model_dir M --job OUT1 DATA1 ADAPTER1 --job OUT2 DATA2 -   # one load, many runs

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
from dataclasses import dataclass
from pathlib import Path

from .engines import Decoding, EngineConfig, check_adapter_dir, check_model_dir, load_engine
from .eval.evaluation import gold_path, grade_file
from .eval.grader import MODES
from .jsonio import DataError, append_jsonl, read_jsonl_numbered, read_jsonl_prefix
from .prompts import DEMO_FILTERS, PROMPT_STYLES, TEMPLATES, build_demonstrations, get_prompts, template_demo_ids


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
    a("--stop_eos", action="store_true", help="also stop at the tokenizer's EOS text (OlympicArena, as the original)")
    a("--max_num_batched_tokens", type=int, default=None)
    a("--eval_only", action="store_true")
    # additions
    a("--backend", choices=("vllm", "hf"), default=None, help="generation engine (default: --model_type)")
    a("--data_file", default=None, help="any eval-format file (instead of --dev_set)")
    a("--num_samples", type=int, default=None, help="N samples per question in one load -> seed{k}/output.jsonl")
    a("--seeds", type=int, nargs="+", default=None, help="explicit sample seeds (default 0..N-1)")
    a("--adapter", default=None, help="LoRA adapter folder applied to --model_dir")
    a("--job", nargs=3, action="append", metavar=("OUTPUT_FILE", "DATA_FILE", "ADAPTER"), default=None,
      help="repeatable: several runs (data file, adapter or '-' for the base model) in one model load; "
           "replaces --output_file_name/--data_file/--adapter")
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
    a("--prompt_style", default="qa", choices=tuple(PROMPT_STYLES), help="qa: 'Question: q\\nAnswer:'; "
      "olympic: the row's own prompt + '\\n\\nAnswer:'")
    a("--judge", default=None, choices=("olympic",), help="grade with OlympicArena's rule-based judge")
    a("--overwrite", action="store_true", help="discard existing outputs instead of resuming")
    a("--quiet", action="store_true")
    return ap.parse_args(argv)


@dataclass
class Job:
    """One output file: the answers of one model (base or base + adapter) to one question file."""
    path: Path
    data_file: Path
    prompts: list[str]
    seed: int
    adapter: str | None


def sample_seeds(args) -> list[int] | None:
    if not (args.num_samples or args.seeds):
        return None
    seeds = args.seeds or list(range(args.num_samples))
    if args.num_samples and len(seeds) != args.num_samples:
        raise ValueError(f"--seeds has {len(seeds)} values but --num_samples is {args.num_samples}")
    return seeds


def output_files(out: Path, args) -> list[tuple[Path, int]]:
    """(output file, sample seed) pairs: one file, or seed{k}/output.jsonl per sample."""
    seeds = sample_seeds(args)
    if seeds is None:
        return [(out, args.seed)]
    return [(out.parent / f"seed{s}" / out.name, s) for s in seeds]


def load_questions(path: Path, limit: int | None) -> list[str]:
    questions = []
    for lineno, row in read_jsonl_numbered(path):
        q = row.get("question")
        if not isinstance(q, str) or not q.strip():
            raise DataError(f"{path}:{lineno}: field 'question' is missing or empty")
        questions.append(q)
    return questions[:limit] if limit else questions


def runs(args) -> list[tuple[Path, Path, str | None]]:
    """(output file, data file, adapter) of every run asked for."""
    if args.job:
        if args.data_file or args.dev_set or args.adapter:
            raise ValueError("--job replaces --data_file/--dev_set/--adapter; give one or the other")
        return [(Path(o), Path(d), None if a in ("-", "") else a) for o, d, a in args.job]
    if not args.data_file and not args.dev_set:
        raise ValueError("give --dev_set, --data_file or --job")
    data = Path(args.data_file) if args.data_file else gold_path(args.dev_set)
    return [(Path(args.output_file_name), data, args.adapter)]


def run(args) -> list[Path]:
    backend = args.backend or args.model_type
    demos = ""
    if not args.eval_only:
        # everything is checked before the model loads
        if not args.model_dir:
            raise ValueError("--model_dir is required")
        check_model_dir(args.model_dir)
        if args.prompt_type == "few-shot":
            ids = template_demo_ids(args.template, args.demo_ids)
            if not args.demos_from:
                raise ValueError(f"few-shot template {args.template!r} needs --demos_from <weak results.jsonl on train_2>")
            demos = build_demonstrations(args.demos_from, ids, args.num_demos, args.demo_seed, args.demo_filter)
        elif args.template not in TEMPLATES:
            raise ValueError(f"unknown template {args.template!r}; choose one of {', '.join(TEMPLATES)}")
    jobs = []
    for out, data, adapter in runs(args):
        if adapter and not args.eval_only:
            check_adapter_dir(adapter)
        prompts = get_prompts(load_questions(data, args.limit), demos, args.prompt_style)
        jobs += [Job(path, data, prompts, seed, adapter) for path, seed in output_files(out, args)]
    if len({j.path for j in jobs}) != len(jobs):
        raise ValueError("two runs write the same output file")
    if not args.eval_only:
        generate(args, backend, jobs)
    if not args.no_eval:
        for j in jobs:
            grade_file(j.path, j.data_file, args.answer_key, args.grade_mode, quiet=args.quiet, limit=args.limit,
                       judge=args.judge)
    return [j.path for j in jobs]


def generate(args, backend: str, jobs: list[Job]) -> None:
    from tqdm import tqdm

    done = {}
    for j in jobs:
        if args.overwrite and j.path.exists():
            j.path.unlink()
        rows = read_jsonl_prefix(j.path)
        if [r.get("id") for r in rows] != list(range(len(rows))) or len(rows) > len(j.prompts):
            raise DataError(f"{j.path}: existing rows are not ids 0..{len(rows) - 1} of these questions; "
                            "use --overwrite to start over")
        if rows and any(r["prompt"] != j.prompts[r["id"]] for r in rows[:1] + rows[-1:]):
            raise DataError(f"{j.path}: existing rows were made with other prompts; use --overwrite to start over")
        done[j.path] = len(rows)
    todo = sum(len(j.prompts) - done[j.path] for j in jobs)
    total = sum(len(j.prompts) for j in jobs)
    if todo == 0:
        print(f"[inference] all {total} answers already generated in {len(jobs)} file(s)")
        return
    if todo < total:
        print(f"[inference] resuming: {todo} of {total} generations left")
    stop = list(args.stop)
    if args.stop_eos:
        from transformers import AutoTokenizer
        eos = AutoTokenizer.from_pretrained(args.model_dir, trust_remote_code=args.trust_remote_code).eos_token
        stop += [eos] if eos and eos not in stop else []
    dec = Decoding(args.temperature, args.top_p, args.max_tokens, tuple(stop),
                   args.presence_penalty, args.frequency_penalty)
    adapters = tuple(dict.fromkeys(j.adapter for j in jobs if j.adapter))
    cfg = EngineConfig(args.model_dir, adapters, args.seed, args.trust_remote_code, args.max_num_batched_tokens,
                       args.max_model_len, args.tensor_parallel_size, args.dtype, args.batch_size,
                       max_num_seqs=args.max_num_seqs)
    t0 = time.time()
    engine = load_engine(backend, cfg, dec)
    print(f"[inference] {backend} engine loaded in {time.time() - t0:.0f}s: {args.model_dir}"
          + (f" + {len(adapters)} adapter(s): {', '.join(adapters)}" if adapters else ""))
    bar = tqdm(total=todo, desc="generate", unit="answer", disable=args.quiet)
    longest = max(len(j.prompts) for j in jobs)
    for lo in range(min(done.values()), longest, args.chunk_size):
        hi = lo + args.chunk_size
        requests, owners = [], []
        for j in jobs:
            for i in range(max(lo, done[j.path]), min(hi, len(j.prompts))):
                requests.append((j.prompts[i], j.seed, j.adapter))
                owners.append((j, i))
        if not requests:
            continue
        texts = engine.generate(requests)
        per_file: dict[Path, list[dict]] = {}
        for (j, i), text in zip(owners, texts):
            per_file.setdefault(j.path, []).append({"id": i, "prompt": j.prompts[i], "response": text.strip().strip(".")})
        for path, rows in per_file.items():
            append_jsonl(path, rows)
            done[path] = rows[-1]["id"] + 1
        bar.update(len(requests))
    bar.close()
    print(f"[inference] {todo} answers in {time.time() - t0:.0f}s -> {', '.join(str(j.path) for j in jobs[:2])}"
          + (" ..." if len(jobs) > 2 else ""))


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
