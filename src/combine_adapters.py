"""Combine the stage I and stage II LoRA adapters into one adapter over the base model.

Stage II trains a new LoRA adapter on top of base + stage I adapter (LLaMA-Factory's
``create_new_adapter``). The final model is W + s1*B1@A1 + s2*B2@A2 in every target module, which is
one LoRA adapter of rank r1 + r2:

    A = [A1; A2]          (rows stacked)       B = [s1*B1, s2*B2]   (columns stacked), scaling 1

so the final model is evaluated in the same vLLM load as the other adapters and released as a single
adapter of the base model. This is exact algebra; the only differences from a merged export
(``scripts/train.sh export``) are the base model's own rounding of merged weights (bf16).

    python -m src.combine_adapters STAGE1_ADAPTER STAGE2_ADAPTER OUTPUT_DIR
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

UNSUPPORTED = ("rank_pattern", "alpha_pattern", "modules_to_save", "layers_to_transform")


def _scaling(cfg: dict, path: Path) -> float:
    for key in UNSUPPORTED:
        if cfg.get(key):
            raise ValueError(f"{path}/adapter_config.json: '{key}' is set; only uniform LoRA adapters can be combined")
    if cfg.get("peft_type", "LORA") != "LORA" or cfg.get("use_dora"):
        raise ValueError(f"{path}/adapter_config.json: not a plain LoRA adapter")
    r, alpha = int(cfg["r"]), float(cfg["lora_alpha"])
    return alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r


def _load(path: Path) -> tuple[dict, dict]:
    from safetensors.torch import load_file
    from .engines import check_adapter_dir
    cfg = check_adapter_dir(str(path))
    weights = path / "adapter_model.safetensors"
    if not weights.is_file():
        raise FileNotFoundError(f"{path}: needs adapter_model.safetensors")
    return cfg, load_file(str(weights))


def combine(first: Path, second: Path, out: Path) -> dict:
    """Write the combined adapter to ``out`` (atomically); returns its config."""
    import torch
    from safetensors.torch import save_file

    first, second, out = Path(first), Path(second), Path(out)
    (cfg1, w1), (cfg2, w2) = _load(first), _load(second)
    s1, s2 = _scaling(cfg1, first), _scaling(cfg2, second)
    if set(w1) != set(w2):
        only = sorted(set(w1) ^ set(w2))[:3]
        raise ValueError(f"{first} and {second} adapt different modules (e.g. {', '.join(only)})")
    combined = {}
    for key in w1:
        if ".lora_A." in key:
            combined[key] = torch.cat([w1[key].float(), w2[key].float()], dim=0).contiguous()
        elif ".lora_B." in key:
            combined[key] = torch.cat([s1 * w1[key].float(), s2 * w2[key].float()], dim=1).contiguous()
        else:
            raise ValueError(f"{first}: unexpected tensor {key!r} (only lora_A / lora_B can be combined)")
    rank = int(cfg1["r"]) + int(cfg2["r"])
    cfg = dict(cfg1, r=rank, lora_alpha=rank, use_rslora=False,
               target_modules=sorted(set(cfg1.get("target_modules") or []) | set(cfg2.get("target_modules") or [])))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    save_file(combined, str(tmp / "adapter_model.safetensors"), metadata={"format": "pt"})
    (tmp / "adapter_config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    (tmp / "README.md").write_text(f"LoRA adapter of rank {rank} = {first} (scaling {s1:g}) followed by {second} "
                                   f"(scaling {s2:g}), combined by src.combine_adapters.\n")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return cfg


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m src.combine_adapters", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("first", help="stage I adapter (applied to the base model)")
    ap.add_argument("second", help="stage II adapter (trained on base + first)")
    ap.add_argument("output", help="folder for the combined adapter")
    args = ap.parse_args(argv)
    from .cli import run_cli

    def go():
        cfg = combine(Path(args.first), Path(args.second), Path(args.output))
        print(f"[combine] {args.output}: rank {cfg['r']} adapter = {args.first} + {args.second}")
    return run_cli(go)


if __name__ == "__main__":
    sys.exit(main())
