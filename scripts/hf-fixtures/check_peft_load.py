"""
Check from Python that what Provenant writes is what Hugging Face reads.

  check_peft_load.py --base BASE --adapter ADAPTER --ours OURS.json [--merged MERGED [--merged-ours MERGED_OURS.json]]
                     [--atol 1e-4] [--class NAME]

- BASE: the base model as a Hugging Face folder (config.json + safetensors).
- ADAPTER: a folder Provenant's saveAdapter wrote (adapter_config.json + adapter_model.safetensors). It is loaded with
  `PeftModel.from_pretrained(base, ADAPTER)` and must (1) hold exactly the keys PEFT's own state dict has for that
  config — no missing, no unexpected — (2) have only fields PEFT's LoraConfig knows, and (3) give Provenant's logits.
- OURS.json: the inputs and Provenant's outputs: `input_ids`, optional `attention_mask`, `token_type_ids`,
  `position_ids` ([B][T] lists), `logits_shape` and `logits` (row-major), optional `compare_mask` ([B][T]: compare
  only where 1).
- MERGED (optional): a merged export loaded with `from_pretrained` (no missing/unexpected/mis-shaped weights) whose
  logits must equal Provenant's too (MERGED_OURS.json when given: Provenant's logits of the export itself, for F16/BF16
  exports, whose rounded weights compute slightly different logits). Its config.json must name the dtype its
  safetensors hold (`dtype` and `torch_dtype` equal, where present), and `from_pretrained(MERGED, dtype='auto')` must
  give parameters of that dtype.

Prints one JSON object {"ok": bool, "checks": [{"name", "ok", "detail", "max_abs_diff"?}], "versions": {...}} and
exits 0 when every check passes, 1 when one fails, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import warnings
from pathlib import Path

import torch

torch.set_num_threads(1)

import peft  # noqa: E402
import transformers  # noqa: E402
from peft import LoraConfig, PeftModel  # noqa: E402
from peft.utils import get_peft_model_state_dict  # noqa: E402
from safetensors import safe_open  # noqa: E402

transformers.logging.set_verbosity_error()
transformers.utils.logging.disable_progress_bar()
# PEFT warns when base_model_name_or_path is not a folder it can read a vocabulary from; the base is passed explicitly.
warnings.filterwarnings("ignore", message="Could not find a config file")


def model_class(folder: Path, override: str | None):
    name = override
    if name is None:
        config = json.loads((folder / "config.json").read_text())
        archs = config.get("architectures") or []
        if not archs:
            raise SystemExit(f"{folder}/config.json has no `architectures`; pass --class")
        name = archs[0]
    cls = getattr(transformers, name, None)
    if cls is None:
        raise SystemExit(f"transformers has no class {name}")
    return cls


def load(cls, folder: Path):
    model, info = cls.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    model.eval()
    return model, info


def outputs(model, ours: dict) -> torch.Tensor:
    kwargs = {"input_ids": torch.tensor(ours["input_ids"])}
    for key in ("attention_mask", "token_type_ids", "position_ids"):
        if ours.get(key) is not None:
            kwargs[key] = torch.tensor(ours[key])
    with torch.no_grad():
        out = model(**kwargs)
    return out.logits if getattr(out, "logits", None) is not None else out.last_hidden_state


def compare(name: str, theirs: torch.Tensor, ours: dict, key: str, atol: float) -> dict:
    shape = ours.get(f"{key}_shape", ours["logits_shape"])
    mine = torch.tensor(ours[key], dtype=torch.float32).view(*shape)
    if list(theirs.shape) != list(mine.shape):
        return {"name": name, "ok": False, "detail": f"shape {list(theirs.shape)} (Python) vs {list(mine.shape)} (Provenant)"}
    diff = (theirs - mine).abs()
    mask = ours.get("compare_mask")
    if mask is not None and diff.ndim == 3:
        diff = diff * torch.tensor(mask, dtype=torch.float32).unsqueeze(-1)
    worst = float(diff.max())
    return {"name": name, "ok": worst <= atol, "max_abs_diff": worst, "detail": f"max |Python − Provenant| = {worst:.3g} (atol {atol:g})"}


SAFETENSORS_TORCH = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def stored_dtypes(folder: Path) -> set[str]:
    """The safetensors dtypes (F32, F16, BF16 …) of every tensor in the folder's weight files, from their headers."""
    found: set[str] = set()
    for file in sorted(folder.glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as f:
            found |= {f.get_slice(k).get_dtype() for k in f.keys()}
    return found


def auto_dtype_check(cls, folder: Path) -> dict:
    """config.json names the stored dtype, and from_pretrained(dtype='auto') loads it (transformers 5 reads `dtype`)."""
    stored = stored_dtypes(folder)
    config = json.loads((folder / "config.json").read_text())
    if len(stored) != 1 or next(iter(stored)) not in SAFETENSORS_TORCH:
        return {"name": "merged export loads in its stored dtype (dtype='auto')", "ok": False, "detail": f"weights stored as {sorted(stored)}"}
    want = SAFETENSORS_TORCH[next(iter(stored))]
    keys = {k: config[k] for k in ("dtype", "torch_dtype") if k in config}
    named = {str(v) for v in keys.values()}
    model = cls.from_pretrained(folder, dtype="auto")
    got = sorted({str(p.dtype).replace("torch.", "") for p in model.parameters()})
    want_name = str(want).replace("torch.", "")
    ok = named == {want_name} and got == [want_name]
    return {"name": "merged export loads in its stored dtype (dtype='auto')", "ok": ok, "detail": f"stored {sorted(stored)}, config {keys}, parameters {got}"}


def file_keys(adapter: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(adapter / "adapter_model.safetensors"), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def main() -> int:
    parser = argparse.ArgumentParser(description="Load Provenant's adapter and merged export with PEFT / transformers and compare logits.")
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--adapter", type=Path, required=True)
    parser.add_argument("--ours", type=Path, required=True)
    parser.add_argument("--merged", type=Path)
    parser.add_argument("--merged-ours", type=Path, help="Provenant's logits of the merged export (default: OURS)")
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--class", dest="cls", default=None, help="transformers class of the base (default: config.json architectures[0])")
    try:
        args = parser.parse_args()
    except SystemExit:
        return 2
    for p in (args.base, args.adapter):
        if not p.is_dir():
            print(json.dumps({"ok": False, "error": f"no folder {p}"}))
            return 2
    ours = json.loads(args.ours.read_text())
    checks: list[dict] = []

    # 1. adapter_config.json: every field is one PEFT's LoraConfig has.
    raw_config = json.loads((args.adapter / "adapter_config.json").read_text())
    known = {f.name for f in dataclasses.fields(LoraConfig)}
    unknown = sorted(set(raw_config) - known)
    checks.append({"name": "adapter_config fields", "ok": not unknown and raw_config.get("peft_type") == "LORA", "detail": f"unknown fields: {unknown}" if unknown else f"{len(raw_config)} fields, all known to peft {peft.__version__}"})

    cls = model_class(args.base, args.cls)
    base, base_info = load(cls, args.base)
    bad_base = {k: v for k, v in base_info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    checks.append({"name": "base loads with from_pretrained", "ok": not bad_base, "detail": f"{bad_base}" if bad_base else f"{cls.__name__}, every weight matched"})

    # 2. PeftModel.from_pretrained, then the key sets: the file's keys must be exactly PEFT's state dict's keys.
    model = PeftModel.from_pretrained(base, args.adapter)
    model.eval()
    saved = file_keys(args.adapter)
    expected = get_peft_model_state_dict(model)
    missing = sorted(set(expected) - set(saved))
    unexpected = sorted(set(saved) - set(expected))
    checks.append({"name": "adapter keys are PEFT's", "ok": not missing and not unexpected, "detail": f"missing {missing}, unexpected {unexpected}" if missing or unexpected else f"{len(saved)} tensors"})
    mismatched = [k for k in set(saved) & set(expected) if saved[k].shape != expected[k].shape or not torch.equal(saved[k].float(), expected[k].float())]
    checks.append({"name": "adapter tensors loaded as written", "ok": not mismatched, "detail": f"differ after loading: {sorted(mismatched)}" if mismatched else "every tensor equal after loading"})

    # 3. Logits of the adapted model.
    checks.append(compare("PeftModel logits", outputs(model, ours), ours, "logits", args.atol))

    # 4. The merged export.
    if args.merged is not None:
        merged_cls = model_class(args.merged, args.cls)
        merged, info = load(merged_cls, args.merged)
        bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
        checks.append({"name": "merged export loads with from_pretrained", "ok": not bad, "detail": f"{bad}" if bad else "every weight matched"})
        # A merge changes no function: the export must give the adapted model's logits, as PEFT's own merge does.
        merged_ours = json.loads(args.merged_ours.read_text()) if args.merged_ours else ours
        checks.append(compare("merged logits", outputs(merged, merged_ours), merged_ours, "logits", args.atol))
        checks.append(auto_dtype_check(merged_cls, args.merged))
        checks.append(compare("PEFT merge_and_unload logits", outputs(model.merge_and_unload(), ours), ours, "logits", args.atol))

    ok = all(c["ok"] for c in checks)
    print(json.dumps({"ok": ok, "checks": checks, "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
