"""Inference: zero-shot, few-shot (ICL) and temperature sampling, then grading.

    python -m src.inference --benchmark gsm8k --model_dir M --dev_set gsm8k_train_2 \\
        --output_file_name outputs/gsm8k_train_2/zero_shot/M/zero-shot/direct/output.jsonl
    python -m src.inference ... --prompt_type few-shot --template gsm8k_my_gemma_2b_icl --demos_from WEAK/results.jsonl
    python -m src.inference ... --prompt_type few-shot --template icl --demos_from WEAK/results.jsonl  # the original's choice
    python -m src.inference ... --temperature 1.0 --num_samples 10          # -> <dir>/seed{0..9}/output.jsonl
    python -m src.inference ... --adapter ADAPTER_DIR                       # base model + LoRA, not merged
    python -m src.inference --model_dir M --job OUT1 DATA1 ADAPTER1 --job OUT2 DATA2 -   # one load, many runs

The benchmark (``--benchmark``, default from ``--dev_set``, else gsm8k) gives the answer key, stop
strings, prompt style, token budget and judge; the original's flags keep working and override it.
Rows ``{id, prompt, response, finish_reason[, row_id]}``: ``id`` = the question's index in the evaluated file
(``row_id``: the question row's own ``id``, when every row has a unique one),
``response`` as the benchmark stores it (GSM8K/MATH: stripped of white space and of leading and
trailing periods), ``finish_reason`` ``stop`` or ``length`` (cut by the token budget).

Every request of every run is in flight at once; each answer is appended (fsync'd) as soon as it
is finished, and the file is put in id order when the run is complete. A rerun after a crash
generates only the missing answers. Beside each output, ``output.meta.json`` records what
produced it (src/provenance.py): a rerun with another model, adapter, decoding setting or prompt
regenerates the file instead of reusing it (``--overwrite`` always starts over). Every input is
checked before the model loads, prompt lengths included. Afterwards ``results.jsonl`` and
``metrics.json`` are written beside each output file (``--no_eval`` skips grading; ``--eval_only``
only grades).
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from . import benchmarks, provenance
from .cli import run_cli
from .engines import Decoding, EngineConfig, check_adapter_dir, check_model_dir, engine_context, load_engine
from .eval.evaluation import gold_path, grade_file
from .eval.grader import MODES
from .jsonio import DataError, append_jsonl, read_jsonl_numbered, read_jsonl_prefix, write_jsonl
from .prompts import (DEMO_FILTERS, PROMPT_STYLES, build_demonstrations, chat_prompts, chat_turn_end_ids, get_prompts,
                      template_demo_ids)


def opt(default=None, help: str = "", **argparse_kw):
    """A field of InferenceConfig that is also a command-line option (--NAME, argparse keywords)."""
    return field(default=default, metadata={"cli": dict(help=help, **argparse_kw)})


@dataclass(frozen=True)
class InferenceConfig:
    """Every setting of an inference call: the command line is built from these fields (one option
    each), and ``resolve`` fills what the user left out from the benchmark (None: its setting)."""
    benchmark: str | None = opt(help="default: from --dev_set, else gsm8k", choices=benchmarks.names)  # at parse time
    # the original's flags
    model_dir: str | None = opt(help="model folder (HF format)")
    output_file_name: str = opt("output.jsonl")
    template: str = opt("zero_shot", "zero_shot, icl, or a named demonstration set of the benchmark")
    dev_set: str | None = opt(help="evaluate data/test/<dev_set>.jsonl")
    prompt_type: str = opt("zero-shot", choices=("zero-shot", "few-shot"))
    answer_key: str | None = opt(help="'####' (GSM8K) or 'The answer is:' (MATH); default: the benchmark's")
    instruction_type: str = opt("direct", choices=("direct",))
    model_type: str = opt("vllm", "the original's name for --backend", choices=("vllm", "hf"))
    trust_remote_code: bool = opt(False, "off unless asked (the original: on)", action="store_true")
    max_tokens: int | None = opt(help="default: the benchmark's (GSM8K 1024, MATH 2048)", type=int)
    seed: int = opt(42, "engine seed; with --temperature > 0 and no --num_samples, the sample seed", type=int)
    temperature: float | None = opt(help="default: the benchmark's (greedy for most)", type=float)
    top_p: float | None = opt(help="default: the benchmark's (1.0 for most)", type=float)
    top_k: int | None = opt(help="sample from the k most likely tokens (default: the benchmark's; no cut)", type=int)
    presence_penalty: float = opt(0.0, type=float)
    frequency_penalty: float = opt(0.0, type=float)
    stop: tuple | None = opt(help="default: the benchmark's stop strings", nargs="+")
    stop_eos: bool | None = opt(help="also stop at the tokenizer's EOS text (OlympicArena)", action="store_true")
    max_num_batched_tokens: int | None = opt(type=int)
    eval_only: bool = opt(False, action="store_true")
    # additions
    backend: str | None = opt(help="generation engine (default: --model_type)", choices=("vllm", "hf"))
    data_file: str | None = opt(help="any eval-format file (instead of --dev_set)")
    num_samples: int | None = opt(help="N samples per question in one load -> seed{k}/output.jsonl", type=int)
    seeds: tuple | None = opt(help="explicit sample seeds (default 0..N-1)", type=int, nargs="+")
    adapter: str | None = opt(help="LoRA adapter folder applied to --model_dir")
    job: tuple | None = opt(help="repeatable: several runs (data file, adapter or '-' for the base model) in one model "
                            "load; replaces --output_file_name/--data_file/--adapter", nargs=3, action="append",
                            metavar=("OUTPUT_FILE", "DATA_FILE", "ADAPTER"))
    demos_from: str | None = opt(help="the weak model's answers on train_2 (results.jsonl, or a full-weak .json)")
    demo_ids: tuple | None = opt(help="demonstration question ids", nargs="+")
    num_demos: int = opt(4, type=int)
    demo_seed: int = opt(42, "seed of the demonstration choice (the original: 42)", type=int)
    demo_filter: str = opt("original", "original: shuffle with the seed, first answers that contain the answer key (the "
                           "original's procedure); original_correct: the same among answers graded correct (oracle); any / "
                           "has_answer / correct: a seeded random sample", choices=DEMO_FILTERS)
    demo_same_question: bool = opt(False, "reproduce the original's OlympicArena template text (the last demonstration's "
                                   "question before every answer)", action="store_true")
    limit: int | None = opt(help="only the first N questions", type=int)
    chunk_size: int | None = opt(help="ignored (every request is in flight at once)", type=int)
    flush_every: float = opt(2.0, "seconds between appends of finished answers (0: each answer)", type=float)
    batch_size: int = opt(16, "hf backend batch size", type=int)
    max_model_len: int | None = opt(type=int)
    max_num_seqs: int | None = opt(help="vLLM sequences in flight (CPU default 128)", type=int)
    tensor_parallel_size: int | None = opt(help="default: the largest size the model's heads allow", type=int)
    data_parallel: str = opt("auto", "replicas of the engine, each answering a share of the questions (one process each; "
                             "N, or auto: on GPUs the visible GPUs // the tensor-parallel size, on CPU 1)")
    shard: tuple | None = opt(help=argparse.SUPPRESS, type=int, nargs=2, metavar=("K", "N"))  # a replica's share
    gpu_memory_utilization: float | None = opt(help="vLLM's share of each GPU's memory (default 0.9)", type=float)
    dtype: str = opt("auto")
    no_eval: bool = opt(False, action="store_true")
    grade_mode: str | None = opt(help="default: the benchmark's", choices=MODES + ("olympic",))
    prompt_style: str | None = opt(help="qa: 'Question: q\\nAnswer:'; olympic: the row's own prompt + '\\n\\nAnswer:'; "
                                   "chat: the row's question as one user message in the model's chat template (no stop "
                                   "strings: the turn ends at EOS); default: the benchmark's", choices=tuple(PROMPT_STYLES))
    judge: str | None = opt(help="override the benchmark's judge", choices=lambda: tuple(benchmarks.JUDGES))
    overwrite: bool = opt(False, "discard existing outputs instead of resuming", action="store_true")
    quiet: bool = opt(False, action="store_true")
    # resolved, not options
    bench: benchmarks.Benchmark | None = None   # the benchmark's entry, with --answer_key / --judge applied
    argv: tuple = ()                            # the command line (what data-parallel replicas run again)


def parse_args(argv=None) -> InferenceConfig:
    ap = argparse.ArgumentParser(prog="python -m src.inference", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in fields(InferenceConfig):
        if "cli" in f.metadata:  # choices given as a function: the registry as it is now (a benchmark registered later)
            kw = {k: v() if k == "choices" and callable(v) else v for k, v in f.metadata["cli"].items()}
            ap.add_argument(f"--{f.name}", default=f.default, **kw)
    ns = vars(ap.parse_args(argv))
    ns = {k: tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v for k, v in ns.items()}
    return resolve(InferenceConfig(**ns, argv=tuple(str(a) for a in (sys.argv[1:] if argv is None else argv))))


def resolve(args: InferenceConfig) -> InferenceConfig:
    """Every setting the user left out, from the benchmark."""
    b = benchmarks.resolve(args.benchmark or benchmarks.for_dev_set(args.dev_set), args.answer_key, args.judge)
    style = args.prompt_style or b.prompt_style
    return replace(
        args, bench=b, benchmark=b.name, answer_key=b.answer_key, prompt_style=style,
        # a chat turn ends at the model's EOS, not at the benchmark's stop words
        stop=args.stop if args.stop is not None else (() if style == "chat" else tuple(b.stop)),
        stop_eos=b.stop_eos if args.stop_eos is None else args.stop_eos,
        max_tokens=b.max_tokens if args.max_tokens is None else args.max_tokens,
        # the benchmark's decoding unless the command gives its own
        temperature=b.temperature if args.temperature is None else args.temperature,
        top_p=b.top_p if args.top_p is None else args.top_p,
        top_k=b.top_k if args.top_k is None else args.top_k,
        # row ids are indices; OlympicArena's named ids are question ids
        demo_ids=args.demo_ids and tuple(int(x) if x.lstrip("-").isdigit() else x for x in args.demo_ids))


@dataclass
class Job:
    """One output file: the answers of one model (base or base + adapter) to one question file."""
    path: Path
    data_file: Path
    prompts: list[str]
    seed: int
    adapter: str | None
    keys: list | None = None  # the data rows' own ids (-> row_id), when every row has one


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


def load_questions(path: Path, limit: int | None) -> tuple[list[str], list | None]:
    """The rows' questions, and their own ``id`` values when every row has a unique one (written to
    the answers as ``row_id``, so later steps join answers to questions by id, not by position)."""
    questions, keys = [], []
    for lineno, row in read_jsonl_numbered(path):
        q = row.get("question")
        if not isinstance(q, str) or not q.strip():
            raise DataError(f"{path}:{lineno}: field 'question' is missing or empty")
        questions.append(q)
        keys.append(row.get("id"))
    if limit:
        questions, keys = questions[:limit], keys[:limit]
    has_keys = all(k is not None for k in keys) and len(set(map(repr, keys))) == len(keys)
    return questions, keys if has_keys else None


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
        ids = template_demo_ids(args.bench, args.template, args.demo_ids)
        if args.prompt_type == "few-shot" and args.prompt_style == "chat":
            raise ValueError("--prompt_style chat takes no demonstrations (the question is the whole user message)")
        if args.prompt_type == "few-shot":
            if not args.demos_from:
                raise ValueError(f"few-shot template {args.template!r} needs --demos_from <weak answers on train_2>")
            demos = build_demonstrations(args.demos_from, ids, args.num_demos, args.demo_seed, args.demo_filter,
                                         args.bench, same_question=args.demo_same_question)
    jobs = []
    for out, data, adapter in runs(args):
        if adapter and not args.eval_only:
            check_adapter_dir(adapter)
        questions, keys = load_questions(data, args.limit)
        if args.prompt_style == "chat":
            if not args.model_dir:
                raise ValueError("--prompt_style chat needs --model_dir (its tokenizer's chat template)")
            prompts = chat_prompts(tokenizer(args), questions, args.bench.system)
        else:
            prompts = get_prompts(questions, demos, args.prompt_style)
        jobs += [Job(path, data, prompts, seed, adapter, keys) for path, seed in output_files(out, args)]
    if len({j.path for j in jobs}) != len(jobs):
        raise ValueError("two runs write the same output file")
    if not args.eval_only:
        generate(args, backend, jobs)
    if not args.no_eval:
        for j in jobs:
            rows = read_jsonl_prefix(j.path)
            truncated = sum(r.get("finish_reason") == "length" for r in rows)
            grade_file(j.path, j.data_file, mode=args.grade_mode, quiet=args.quiet, limit=args.limit,
                       benchmark=args.bench, extra={"truncated": truncated, "max_tokens": args.max_tokens})
            if truncated:
                print(f"[inference] {j.path}: {truncated} of {len(rows)} answers were cut at max_tokens={args.max_tokens}")
    return [j.path for j in jobs]


def tokenizer(args):
    """The model's tokenizer, loaded once per run (chat prompts, the EOS stop, the context check)."""
    return _tokenizer(str(args.model_dir), bool(args.trust_remote_code))


@functools.lru_cache(maxsize=2)
def _tokenizer(model_dir: str, trust_remote_code: bool):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)


def stop_strings(args) -> tuple[str, ...]:
    stop = list(args.stop)
    if args.stop_eos:
        eos = tokenizer(args).eos_token
        stop += [eos] if eos and eos not in stop else []
    return tuple(stop)


def made_by(args, job: Job, dec: Decoding, backend: str, model_fp: str, adapter_fps: dict, replicas: int = 1) -> dict:
    return {"model": model_fp, "adapter": adapter_fps.get(job.adapter), "backend": backend, "dtype": args.dtype,
            "threads": replica_threads(replicas), **({"replicas": replicas} if replicas > 1 else {}),
            "decoding": {"temperature": dec.temperature, "top_p": dec.top_p, "max_tokens": dec.max_tokens,
                         "stop": list(dec.stop), "presence_penalty": dec.presence_penalty,
                         "frequency_penalty": dec.frequency_penalty,
                         **({"top_k": dec.top_k} if dec.top_k is not None else {}),
                         **({"stop_token_ids": list(dec.stop_token_ids)} if dec.stop_token_ids else {})},
            "seed": job.seed, "prompts": provenance.hash_texts(job.prompts), "questions": len(job.prompts),
            "benchmark": args.bench.name, "store": "strip" if args.bench.strip_responses else "raw"}


def existing_rows(job: Job, record: dict, overwrite: bool) -> set[int]:
    """Ids already answered by the same model and settings; anything else is discarded."""
    if overwrite and job.path.exists():
        job.path.unlink()
    diff = provenance.differences(provenance.read(job.path), record) if job.path.exists() or parts(job.path) else []
    if diff or overwrite:  # replicas' parts belong to the record beside the file they were made for
        for part in parts(job.path):
            part.unlink()
    if diff:
        print(f"[inference] {job.path}: made by another model or setting ({', '.join(diff)}); regenerating")
        for stale in (job.path, job.path.parent / "results.jsonl", job.path.parent / "metrics.json"):
            stale.unlink(missing_ok=True)
    merge_parts(job)  # answers of replicas that were stopped before they were merged
    done = set()
    for row in read_jsonl_prefix(job.path):
        i = answer_id(job, row, job.path)
        if i in done:
            raise DataError(f"{job.path}: row with id {i!r} is not an answer to these questions; "
                            "use --overwrite to start over")
        done.add(i)
    return done


def answer_id(job: Job, row: dict, where: Path) -> int:
    """The id of a stored answer row, checked against the job's questions (id, prompt, row id)."""
    i = row.get("id")
    if not isinstance(i, int) or not 0 <= i < len(job.prompts) or row.get("prompt") != job.prompts[i] \
            or (job.keys is not None and "row_id" in row and row["row_id"] != job.keys[i]):
        raise DataError(f"{where}: row with id {i!r} is not an answer to these questions; "
                        "use --overwrite to start over")
    return i


def check_context(args, jobs: list[Job], context: int, backend: str) -> None:
    """A prompt longer than the model's context is an error (vLLM would reject it and abort the whole
    run), named by its beginning; prompts that leave less than max_tokens for the answer are a
    warning with vLLM (it stops those answers at the context: counted as truncated) and an error with
    transformers (it would run past its position embeddings)."""
    tok = tokenizer(args)
    prompts = list(dict.fromkeys(p for j in jobs for p in j.prompts))
    lengths = [len(ids) for ids in tok(prompts, add_special_tokens=True)["input_ids"]]
    worst = max(range(len(prompts)), key=lengths.__getitem__)
    tight = sum(n + args.max_tokens > context for n in lengths)
    if lengths[worst] >= context or (tight and backend == "hf"):
        raise ValueError(f"the longest prompt has {lengths[worst]} tokens; with max_tokens={args.max_tokens} it needs "
                         f"{lengths[worst] + args.max_tokens} > the model's context {context} "
                         f"({tight} of {len(prompts)} prompts too long). "
                         f"Lower --max_tokens, choose shorter demonstrations, or raise --max_model_len. "
                         f"The prompt begins: {prompts[worst][:120]!r}")
    if tight:
        print(f"[inference] warning: {tight} of {len(prompts)} prompts leave fewer than max_tokens={args.max_tokens} "
              f"tokens of the model's context {context} (longest prompt {lengths[worst]} tokens): those answers "
              "stop at the context and count as truncated")


def generate(args, backend: str, jobs: list[Job]) -> None:
    stop_ids = tuple(chat_turn_end_ids(tokenizer(args))) if args.prompt_style == "chat" else ()
    dec = Decoding(args.temperature, args.top_p, args.max_tokens, stop_strings(args),
                   args.presence_penalty, args.frequency_penalty, top_k=args.top_k, stop_token_ids=stop_ids)
    if args.shard:  # one replica of several: its share of what is left, into its own part files
        k, n = args.shard
        done = {j.path: {r["id"] for r in read_jsonl_prefix(j.path)} for j in jobs}
        todo = [(j, i) for j in jobs for i in range(len(j.prompts)) if i not in done[j.path]][k::n]
        if todo:
            stream_answers(args, backend, dec, todo, lambda j: part_path(j.path, k))
        return
    replicas, tp = data_parallel(args, backend)
    model_fp = provenance.fingerprint(args.model_dir)
    adapter_fps = {a: provenance.fingerprint(a) for a in {j.adapter for j in jobs if j.adapter}}
    records = {j.path: made_by(args, j, dec, backend, model_fp, adapter_fps, replicas) for j in jobs}
    done = {j.path: existing_rows(j, records[j.path], args.overwrite) for j in jobs}
    todo = [(j, i) for j in jobs for i in range(len(j.prompts)) if i not in done[j.path]]
    total = sum(len(j.prompts) for j in jobs)
    if not todo:
        print(f"[inference] all {total} answers already generated in {len(jobs)} file(s) by the same model and settings")
        for j in jobs:
            finish(j)
        return
    if len(todo) < total:
        print(f"[inference] resuming: {len(todo)} of {total} generations left")
    context = engine_context(args.model_dir, args.max_model_len, args.temperature > 0, backend, args.trust_remote_code)
    check_context(args, [j for j in jobs if len(done[j.path]) < len(j.prompts)], context, backend)
    paths = {"model": str(args.model_dir), "data_files": sorted({str(j.data_file) for j in jobs})}
    for j in jobs:
        provenance.write(j.path, records[j.path], {**paths, "adapter": j.adapter, "data_file": str(j.data_file)})
    t0 = time.time()
    if min(replicas, len(todo)) > 1:
        run_replicas(args, jobs, len(todo), min(replicas, len(todo)), tp)
    else:
        stream_answers(args, backend, dec, todo, lambda j: j.path)
    for j in jobs:
        finish(j)
    print(f"[inference] {len(todo)} answers in {time.time() - t0:.0f}s -> {', '.join(str(j.path) for j in jobs[:2])}"
          + (" ..." if len(jobs) > 2 else ""))


def stream_answers(args, backend: str, dec: Decoding, todo: list[tuple[Job, int]], path_of) -> None:
    """Load the engine and answer ``todo``, appending finished answers to ``path_of(job)`` as they come."""
    from tqdm import tqdm
    adapters = tuple(dict.fromkeys(j.adapter for j, _ in todo if j.adapter))
    cfg = EngineConfig(args.model_dir, adapters, args.seed, args.trust_remote_code, args.max_num_batched_tokens,
                       args.max_model_len, args.tensor_parallel_size, args.dtype, args.batch_size,
                       max_num_seqs=args.max_num_seqs, gpu_memory_utilization=args.gpu_memory_utilization)
    t0 = time.time()
    engine = load_engine(backend, cfg, dec)
    print(f"[inference] {backend} engine loaded in {time.time() - t0:.0f}s: {args.model_dir}"
          + (f" + {len(adapters)} adapter(s): {', '.join(adapters)}" if adapters else ""))
    bar = tqdm(total=len(todo), desc="generate", unit="answer", disable=args.quiet)
    requests = [(j.prompts[i], j.seed, j.adapter) for j, i in todo]
    pending: dict[Path, list[dict]] = {}

    def flush():
        nonlocal pending
        for path, rows in pending.items():
            append_jsonl(path, rows)
        bar.update(sum(len(r) for r in pending.values()))
        pending = {}

    last_flush = time.time()
    try:
        for k, text, reason in engine.stream(requests):
            j, i = todo[k]
            row = {"id": i, "prompt": j.prompts[i], "response": args.bench.store(text), "finish_reason": reason}
            if j.keys is not None:
                row["row_id"] = j.keys[i]
            pending.setdefault(path_of(j), []).append(row)
            if time.time() - last_flush >= args.flush_every:  # one fsync per file and interval
                flush()
                last_flush = time.time()
    finally:  # whatever ends the loop (the end, an error, Ctrl-C), finished answers are kept
        flush()
    bar.close()


# ---------------------------------------------------------------- data parallel: replicas over shares
def visible_gpus() -> list[str]:
    """The GPUs this process may use (CUDA_VISIBLE_DEVICES, else every GPU NVML sees); [] on CPU."""
    from .engines import on_gpu
    if not on_gpu():
        return []
    given = os.environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        return [g for g in given.split(",") if g.strip()]
    import torch
    return [str(k) for k in range(torch.cuda.device_count())]


def data_parallel(args, backend: str) -> tuple[int, int | None]:
    """(replicas, tensor-parallel size of each). auto: on GPUs every group of the model's largest
    tensor-parallel size gets a replica (8 GPUs, a model that allows 4: 2 replicas); on CPU 1."""
    gpus = visible_gpus()
    tp = args.tensor_parallel_size
    if gpus and backend == "vllm" and not tp:
        from .engines import tensor_parallel_size
        tp = tensor_parallel_size(args.model_dir, len(gpus))
    if args.data_parallel == "auto":
        n = len(gpus) // tp if gpus and backend == "vllm" else 1
    elif not str(args.data_parallel).isdigit() or int(args.data_parallel) < 1:
        raise ValueError(f"--data_parallel is a number of replicas or auto, not {args.data_parallel!r}")
    else:
        n = int(args.data_parallel)
    if n > 1 and backend != "vllm":
        raise ValueError("--data_parallel runs vLLM replicas; the hf backend runs one")
    if n > 1 and gpus and n * tp > len(gpus):
        raise ValueError(f"--data_parallel {n} x tensor parallel {tp} needs {n * tp} GPUs; {len(gpus)} are visible")
    return max(1, n), tp


def replica_threads(replicas: int) -> int | None:
    """CPU threads of each replica: this process's shared out (None on GPUs)."""
    threads = provenance.cpu_threads()
    return max(1, threads // replicas) if threads else None


def part_path(path: Path, k: int) -> Path:
    return path.with_name(f"{path.name}.part{k}")


def parts(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.part*")) if path.parent.is_dir() else []


def merge_parts(job: Job) -> None:
    """Append the answers in the job's replica parts to its file (each id once), then drop the parts."""
    found = parts(job.path)
    if not found:
        return
    have = {r["id"] for r in read_jsonl_prefix(job.path)}
    rows = []
    for part in found:
        for row in read_jsonl_prefix(part):
            i = answer_id(job, row, part)
            if i not in have:
                have.add(i)
                rows.append(row)
    if rows:
        append_jsonl(job.path, rows)
    for part in found:
        part.unlink()


def run_replicas(args, jobs: list[Job], total: int, n: int, tp: int | None) -> None:
    """n processes of this command, replica k answering every n-th question left (--shard k n) into
    its own part files, on its own GPUs (tp each) or its share of the CPU threads; their answers are
    merged into the output files, also when a replica fails (nothing finished is lost)."""
    import subprocess
    gpus = visible_gpus()
    argv, skip = [], False
    for a in args.argv:  # the same command, without the options a replica must not repeat
        if skip:
            skip = False
        elif a in ("--overwrite", "--eval_only"):
            continue
        elif a in ("--data_parallel", "--tensor_parallel_size"):
            skip = True
        elif not a.startswith(("--data_parallel=", "--tensor_parallel_size=")):
            argv.append(a)
    threads = replica_threads(n)
    procs = []
    for k in range(n):
        env = dict(os.environ)
        cmd = [sys.executable, "-m", "src.inference", *argv, "--shard", str(k), str(n), "--data_parallel", "1",
               "--no_eval", "--quiet"]
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus[k * tp:(k + 1) * tp])
            cmd += ["--tensor_parallel_size", str(tp)]
        else:
            env["OMP_NUM_THREADS"] = str(threads)
        procs.append(subprocess.Popen(cmd, env=env))
    print(f"[inference] {n} replicas" + (f" of {tp} GPU(s) each" if gpus else f" of {threads} CPU thread(s) each")
          + f" answer {total} questions", flush=True)
    shown = 0
    while any(p.poll() is None for p in procs):
        time.sleep(10)
        made = sum(len(read_jsonl_prefix(part)) for j in jobs for part in parts(j.path))
        if not args.quiet and made - shown >= max(1, total // 20):
            print(f"[inference] replicas: {made} of {total} answers", flush=True)
            shown = made
    for j in jobs:
        merge_parts(j)
    failed = [k for k, p in enumerate(procs) if p.returncode != 0]
    if failed:
        raise RuntimeError(f"replica(s) {failed} of {n} failed (their finished answers are kept; run again to resume)")


def finish(job: Job) -> None:
    """Put a complete output file in id order (answers were appended as they finished)."""
    rows = read_jsonl_prefix(job.path)
    if len(rows) != len(job.prompts):
        raise RuntimeError(f"{job.path}: {len(rows)} of {len(job.prompts)} answers after generation")
    ordered = sorted(rows, key=lambda r: r["id"])
    if ordered != rows:
        write_jsonl(job.path, ordered)


def main(argv=None) -> int:
    return run_cli(lambda: run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
