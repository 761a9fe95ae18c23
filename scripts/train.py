"""Training entry point: LLaMA-Factory with the original's ``vanilla`` template (run in .venv-train).

    python scripts/train.py scripts/configs/stage1_sft.yaml dataset=gsm8k_iter1_hybrid \\
        model_name_or_path=MODEL output_dir=OUT [key=value ...]
    python scripts/train.py --export scripts/configs/export.yaml model_name_or_path=MODEL \\
        adapter_name_or_path=SFT,DPO export_dir=MERGED
    torchrun --nproc_per_node 4 scripts/train.py CONFIG deepspeed=scripts/configs/ds_z3_config.json ...
    python scripts/train.py scripts/configs/alice_sft.yaml scripts/configs/lora.yaml ...   # configs merge in order
    python scripts/train.py --skip_if_trained [--threads N] CONFIG ...   # exit 0: OUT's record matches (skip)
    python scripts/train.py --record [--threads N] CONFIG ...            # write OUT/training.meta.json

scripts/train.sh runs a step between the last two: a step whose record (src/provenance.py) shows the
same data, models, settings, training code and processes is skipped; a changed one's old output (a
folder that holds a record is this project's) is set aside as OUT.replaced while it trains again.

The ``vanilla`` template (prompt text, then response text, then EOS; no system text, no role tags,
no BOS from the template) no longer exists in LLaMA-Factory by name, so it is registered here
(with ``vanilla_bos``, the same plus the tokenizer's BOS, for models such as Gemma that need it),
in-process, before LLaMA-Factory's own entry points run (``llamafactory-cli`` in a separate
process would not see it); so is ``model_chat``, the model's own chat template cut into one user
and one assistant turn (for the chat-trained methods, e.g. Alice). Every input is checked before a model loads: dataset names and files,
the preference-pair format, adapter folders.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from src import provenance, registry  # noqa: E402
from src.engines import check_adapter_dir, check_model_dir  # noqa: E402
from src.jsonio import DataError  # noqa: E402
from src.prompts import tokenizer_adds_bos  # noqa: E402


def register_vanilla() -> None:
    from llamafactory.data.formatter import EmptyFormatter
    from llamafactory.data.template import TEMPLATES, register_template
    if "vanilla" not in TEMPLATES:
        # the defaults are exactly the original vanilla template: user "{{content}}",
        # assistant "{{content}}" + EOS, empty prefix (no BOS), no system text
        register_template(name="vanilla")
    if "vanilla_bos" not in TEMPLATES:
        # the same with the tokenizer's BOS first, as at inference, for models that need it
        # (Gemma answers garbage without BOS)
        register_template(name="vanilla_bos", format_prefix=EmptyFormatter(slots=[{"bos_token"}]))


def chat_parts(tokenizer, system: str | None = None) -> dict:
    """The model's own chat template cut into the pieces LLaMA-Factory needs for one user turn and
    one assistant turn: the text before the user's message (``system``: our system turn, "" an empty
    one, as src.prompts.chat_prompts writes it; None: the template's default one, if any), the
    text between it and the answer, and the text after the answer. A BOS that the template writes
    and the tokenizer also adds is left to the tokenizer (as src.prompts.chat_prompts does)."""
    if not getattr(tokenizer, "chat_template", None):
        raise DataError(f"{tokenizer.name_or_path}: template=model_chat needs a tokenizer with a chat template")
    user, answer = "\x00USER\x00", "\x00ANSWER\x00"
    first = [] if system is None else [{"role": "system", "content": system}]
    prompt = tokenizer.apply_chat_template(first + [{"role": "user", "content": user}], tokenize=False,
                                           add_generation_prompt=True)
    full = tokenizer.apply_chat_template(first + [{"role": "user", "content": user}, {"role": "assistant", "content": answer}],
                                         tokenize=False)
    before, _, between = prompt.partition(user)
    if not full.startswith(prompt) or answer not in full:
        raise DataError(f"{tokenizer.name_or_path}: the chat template's prompt is not a prefix of its conversation; "
                        "template=model_chat cannot split it")
    after = full[len(prompt):].partition(answer)[2]
    if full[len(prompt):].partition(answer)[0]:
        raise DataError(f"{tokenizer.name_or_path}: the chat template writes text before the answer that the prompt lacks")
    bos, adds_bos = tokenizer.bos_token, tokenizer_adds_bos(tokenizer)
    if adds_bos and before.startswith(bos):
        before = before[len(bos):]
    return {"before": before, "between": between, "after": after, "bos": adds_bos}


def register_model_chat(model_dir: str, system: str | None = None) -> None:
    """``template=model_chat``: one user turn and one assistant turn formatted exactly as the model's
    chat template formats them at inference (``src.inference --prompt_style chat``, with the
    benchmark's system turn: the config key ``chat_system``); loss on the answer and the turn's end."""
    from llamafactory.data.formatter import EmptyFormatter, StringFormatter
    from llamafactory.data.template import TEMPLATES, register_template
    from transformers import AutoTokenizer
    p = chat_parts(AutoTokenizer.from_pretrained(model_dir), system)
    TEMPLATES.pop("model_chat", None)
    register_template(
        name="model_chat",
        format_user=StringFormatter(slots=[p["before"] + "{{content}}" + p["between"]]),
        format_assistant=StringFormatter(slots=["{{content}}" + p["after"]]),
        format_prefix=EmptyFormatter(slots=[{"bos_token"}] if p["bos"] else []),
    )


def resolve_template(config: dict) -> str | None:
    """``template=auto`` becomes ``vanilla_bos`` when the model's tokenizer puts BOS first at inference
    and ``vanilla`` when it does not; ``vanilla`` / ``vanilla_bos`` that contradict the tokenizer are an
    error (training without the BOS that every inference prompt starts with, or with one it never
    sees). Returns the line that logs the choice (None for other templates)."""
    template = config.get("template")
    if template not in ("auto", "vanilla", "vanilla_bos"):
        return None
    from transformers import AutoTokenizer
    model = str(config["model_name_or_path"])
    adds = tokenizer_adds_bos(AutoTokenizer.from_pretrained(model))
    right = "vanilla_bos" if adds else "vanilla"
    if template != "auto" and template != right:
        raise DataError(f"template={template} contradicts the tokenizer of {model}, which "
                        f"{'puts' if adds else 'does not put'} BOS first at inference: use template={right} (or auto)")
    config["template"] = right
    return f"[train] template {right} ({'BOS first, as the tokenizer at inference' if adds else 'no BOS: the tokenizer adds none'})"


def parse(argv: list[str]) -> tuple[bool, dict]:
    export = "--export" in argv
    argv = [a for a in argv if a != "--export"]
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if argv else 2)
    config_path = Path(argv[0])
    if not config_path.is_file():
        raise DataError(f"{config_path}: config file not found")
    config = yaml.safe_load(config_path.read_text()) or {}
    rest = argv[1:]
    while rest and "=" not in rest[0] and rest[0].endswith(".yaml"):  # more configs, each over the last
        more = Path(rest.pop(0))
        if not more.is_file():
            raise DataError(f"{more}: config file not found")
        config.update(yaml.safe_load(more.read_text()) or {})
    given = set()
    for item in rest:
        if "=" not in item:
            raise DataError(f"override {item!r} is not key=value")
        key, value = item.split("=", 1)
        given.add(key)
        config[key] = yaml.safe_load(value) if value != "" else None
        if isinstance(config[key], str) and re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+", config[key]):
            config[key] = float(config[key])  # YAML 1.1 reads 1e-5 (no dot) as a string
    if {"effective_batch_size", "gradient_accumulation_steps"} <= given:
        raise DataError("give effective_batch_size or gradient_accumulation_steps, not both (the first sets the second)")
    if "gradient_accumulation_steps" in given:
        config.pop("effective_batch_size", None)  # an explicit accumulation replaces the config's effective batch
    return export, config


def check_pairs_file(path: Path, name: str) -> None:
    rows = json.loads(path.read_text())
    first = rows[0] if rows else {}
    if "chosen" not in first or "rejected" not in first:
        hint = (" (original v0.5 form 'output: [chosen, rejected]'; convert it with "
                f"`python -m src.construct_training_data convert-pairs --input {path} --output NEW.json`)"
                if isinstance(first.get("output"), list) else "")
        raise DataError(f"{path}: dataset {name!r} is a preference set but row 0 has no 'chosen'/'rejected'{hint}")


def check_inputs(config: dict, export: bool) -> None:
    for key in ("model_name_or_path",) + (() if export else ("output_dir", "dataset")):
        if not config.get(key):
            raise DataError(f"missing setting '{key}' (give it as {key}=...)")
    try:
        check_model_dir(str(config["model_name_or_path"]))
        for adapter in str(config.get("adapter_name_or_path") or "").split(","):
            if adapter:
                check_adapter_dir(adapter)
    except FileNotFoundError as err:
        raise DataError(str(err)) from None
    if export:
        return
    if config.get("adapter_name_or_path") and config.get("create_new_adapter") and zero3(config):
        # LLaMA-Factory 0.9.5 (model/adapter.py) silently ignores create_new_adapter under ZeRO-3: it would
        # keep training the given adapter against the base model as reference, not the merged one
        raise DataError("create_new_adapter with adapter_name_or_path is not honoured under DeepSpeed ZeRO-3: "
                        "merge the adapter first (train.sh export) and train on the merged model with no adapter")
    dataset_dir = config.get("dataset_dir", "data/llama_factory")
    info = registry.load(dataset_dir)
    for name in str(config["dataset"]).split(","):
        path = registry.resolve(dataset_dir, name.strip())
        if not json.loads(path.read_text()):
            raise DataError(f"{path}: dataset {name.strip()!r} has no rows: nothing to train on")
        if config.get("stage") == "dpo":
            if not info[name.strip()].get("ranking"):
                raise DataError(f"{Path(dataset_dir) / registry.REGISTRY}: dataset {name!r} is not registered as "
                                "preference data (ranking: true); register it with kind 'pairs'")
            check_pairs_file(path, name)


def effective_batch(config: dict, world_size: int) -> str:
    """``effective_batch_size=N`` (this project's key, not LLaMA-Factory's): the accumulation steps
    that make N sequences per optimizer step whatever the number of processes; an error when N is
    not a multiple of micro-batch x processes. Returns the line that logs it."""
    n = int(config.pop("effective_batch_size"))
    micro = int(config.get("per_device_train_batch_size", 1))
    if n < 1 or n % (micro * world_size):
        raise DataError(f"effective_batch_size={n} is not a multiple of per_device_train_batch_size={micro} "
                        f"x {world_size} processes")
    config["gradient_accumulation_steps"] = n // (micro * world_size)
    return (f"[train] effective batch {n} = {micro} per device x {world_size} processes x "
            f"{config['gradient_accumulation_steps']} accumulation steps")


def zero3(config: dict) -> bool:
    ds = config.get("deepspeed")
    if not ds:
        return False
    cfg = json.loads(Path(ds).read_text()) if isinstance(ds, str) else ds
    return int(cfg.get("zero_optimization", {}).get("stage", 0)) == 3


PLAN_KEYS = ("stage", "model_name_or_path", "adapter_name_or_path", "dataset", "output_dir", "export_dir", "finetuning_type",
             "template", "per_device_train_batch_size", "gradient_accumulation_steps", "learning_rate", "num_train_epochs",
             "lr_scheduler_type", "warmup_steps", "warmup_ratio", "cutoff_len", "pref_loss", "pref_beta", "lora_rank",
             "create_new_adapter", "bf16", "deepspeed", "seed")


def resolve(config: dict, export: bool, template: bool = True) -> list[str]:
    """What this project resolves itself before LLaMA-Factory runs, and the lines that log it: the
    accumulation steps from ``effective_batch_size`` and WORLD_SIZE, and (``template``) the vanilla
    template from the model's tokenizer."""
    lines = []
    if not export and config.get("effective_batch_size") is not None:
        lines.append(effective_batch(config, int(os.environ.get("WORLD_SIZE", "1"))))
    config.pop("effective_batch_size", None)
    line = resolve_template(config) if not export and template else None
    return lines + ([line] if line else [])


def plan(export: bool, config: dict) -> int:
    """``--plan``: the resolved settings of this step (template from the tokenizer where the model is
    here, effective batch and accumulation from WORLD_SIZE); nothing is checked on disk or trained."""
    for line in resolve(config, export, template=Path(str(config.get("model_name_or_path", ""))).is_dir()):
        print("    " + line)
    print("    " + ", ".join(f"{k}={config[k]}" for k in PLAN_KEYS if config.get(k) not in (None, "")))
    return 0


TRAINING_CODE = (ROOT / "scripts" / "train.py", ROOT / "scripts" / "train.sh")
TRAIN_AGAIN = 10  # --skip_if_trained's exit status when the step must run


def made_by(config: dict, export: bool, threads: int | None) -> tuple[dict, dict]:
    """The step's record (src.provenance.training_made_by) and the paths it read."""
    dataset_dir = config.get("dataset_dir", "data/llama_factory")
    datasets = {} if export else {n.strip(): registry.resolve(dataset_dir, n.strip()) for n in str(config["dataset"]).split(",")}
    made = provenance.training_made_by(config, datasets, TRAINING_CODE, int(os.environ.get("WORLD_SIZE", "1")), threads)
    paths = {"model": str(config["model_name_or_path"]), "adapters": str(config.get("adapter_name_or_path") or ""),
             "data": {n: str(f) for n, f in datasets.items()}}
    return made, paths


def record_step(argv: list[str], skip: bool) -> int:
    """``--skip_if_trained``: exit 0 when OUT's record (OUT/training.meta.json) matches this step, after
    saying so; otherwise TRAIN_AGAIN, after setting aside an OUT whose record names another step
    (OUT.replaced: a failed retraining leaves the earlier model there). ``--record``: write the record
    of the step that just finished and remove what it replaced."""
    threads = None
    if "--threads" in argv:
        k = argv.index("--threads")
        threads = int(argv[k + 1])
        argv = argv[:k] + argv[k + 2:]
    export, config = parse(argv)
    out = Path(str(config["export_dir" if export else "output_dir"]))
    made, paths = made_by(config, export, threads)
    target = out / provenance.TRAINING_RECORD
    replaced = out.with_name(out.name + ".replaced")
    if not skip:
        provenance.write(target, made, paths, code_version=provenance.code_version(ROOT))
        shutil.rmtree(replaced, ignore_errors=True)
        return 0
    old = provenance.read(target)
    if old is None:
        return TRAIN_AGAIN
    changed = provenance.differences(old, made)
    if not changed:
        print(f"[train] {out}: trained before on the same data, base model and settings (skipped)", flush=True)
        return 0
    print(f"[train] {out}: its {', '.join(changed)} changed since it was trained: training again "
          f"(the earlier one kept as {replaced.name} until this one is recorded)", flush=True)
    shutil.rmtree(replaced, ignore_errors=True)
    out.rename(replaced)  # this project's output (it holds a record): nothing of the old step is mixed into the new
    return TRAIN_AGAIN


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for mode in ("--skip_if_trained", "--record"):
        if mode in argv:
            try:
                return record_step([a for a in argv if a != mode], skip=mode == "--skip_if_trained")
            except DataError as err:
                print(f"error: {err}", file=sys.stderr)
                return 1
    if "--plan" in argv:
        try:
            export, config = parse([a for a in argv if a != "--plan"])
            return plan(export, config)
        except DataError as err:
            print(f"    error: {err}")
            return 1
    try:
        export, config = parse(argv)
        # chat_system (this project's key): the system turn of template=model_chat ("" an empty one)
        system = config.pop("chat_system", None)
        if system is not None and config.get("template") != "model_chat":
            raise DataError(f"chat_system is for template=model_chat, not template={config.get('template')}")
        check_inputs(config, export)
        for line in resolve(config, export):
            if os.environ.get("RANK", "0") == "0":
                print(line, flush=True)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    register_vanilla()
    if config.get("template") == "model_chat":
        try:
            register_model_chat(str(config["model_name_or_path"]), None if system is None else str(system))
        except DataError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
    from llamafactory.train.tuner import export_model, run_exp
    if export:
        export_model(config)
        print(f"[train] merged model written to {config['export_dir']}")
    else:
        run_exp(config)
        kind = "model" if config.get("finetuning_type") == "full" else "adapter"
        print(f"[train] {kind} written to {config['output_dir']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
