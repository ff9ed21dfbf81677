# The PyTorch side of `npm run bench:hf` (benchmarks/hf.ts runs it; not run by the test suite).
#   OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/hf_torch.py '<json spec>'
# Debian's python3-torch on OpenBLAS (scripts/setup-openblas.sh), one thread: torch.set_num_threads(1) AND
# OPENBLAS_NUM_THREADS=1 (Debian's OpenBLAS ignores the former). The model is transformers' LlamaForCausalLM written out
# in plain torch (RMSNorm, rotate-half RoPE, grouped-query attention, SwiGLU, untied head) so it runs on the system
# torch, whose BLAS is the one under test; LoRA as PEFT computes it (x·Aᵀ·Bᵀ·alpha/r on q_proj and v_proj).
# Spec keys: "llama" {vocab, hidden, layers, heads, kvHeads, intermediate, seq, batch, r, alpha, steps, warmup,
# forwardReps, promptLen, newTokens}; "writeSmol" {dir, vocab, hidden, layers, heads, kvHeads, intermediate, seed}:
# write a random SmolLM-135M-shaped checkpoint (config.json + BF16 model.safetensors) with numpy alone;
# "smolStep" {dir or sizes, seq, batch, steps}: seconds per LoRA step at that shape.
# Prints one line: RESULT <json>.
import json, math, os, re, statistics, struct, sys, time

import numpy as np

from torch_blas import mapped_blas_libraries


def blas_in_use():
    """The BLAS library actually mapped into this process after a matmul, and torch's own build description."""
    import torch
    libs = mapped_blas_libraries()
    m = re.search(r'BLAS_INFO=([\w-]+)', torch.__config__.show())
    return {'torch_blas_info': m.group(1) if m else 'unknown', 'mapped': libs}


def gflops():
    import torch
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    a @ b
    t = time.perf_counter()
    for _ in range(3):
        a @ b
    return 3 * 2 * 1024 ** 3 / (time.perf_counter() - t) / 1e9


def build_llama(s, seed=0):
    import torch
    import torch.nn.functional as F
    torch.manual_seed(seed)
    V, D, L, H, Hk, I = s['vocab'], s['hidden'], s['layers'], s['heads'], s['kvHeads'], s['intermediate']
    d = D // H
    std = 0.02

    def p(*shape):
        return torch.randn(*shape) * std

    params = {'embed': p(V, D), 'norm': torch.ones(D), 'lm_head': p(V, D)}
    layers = []
    for _ in range(L):
        layers.append({
            'ln1': torch.ones(D), 'ln2': torch.ones(D),
            'q': p(H * d, D), 'k': p(Hk * d, D), 'v': p(Hk * d, D), 'o': p(D, H * d),
            'gate': p(I, D), 'up': p(I, D), 'down': p(D, I),
        })
    r, alpha = s['r'], s['alpha']
    lora = []
    for _ in range(L):
        entry = {}
        for m, out in (('q', H * d), ('v', Hk * d)):
            A = torch.nn.Parameter(torch.empty(r, D).uniform_(-1 / math.sqrt(D), 1 / math.sqrt(D)))
            B = torch.nn.Parameter(torch.zeros(out, r))
            entry[m] = (A, B)
        lora.append(entry)
    scale = alpha / r
    inv = 1.0 / (s.get('ropeTheta', 10000.0) ** (torch.arange(0, d, 2).float() / d))

    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

    def rope(x, pos):
        freqs = pos[:, None].float() * inv[None, :]
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos(), emb.sin()
        x1, x2 = x[..., : d // 2], x[..., d // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def lin(x, w, ab=None):
        y = x @ w.t()
        if ab is not None:
            A, B = ab
            y = y + (x @ A.t()) @ B.t() * scale
        return y

    def forward(ids, cache=None):
        Bsz, T = ids.shape
        start = 0 if cache is None else cache['len']
        pos = torch.arange(start, start + T)
        x = params['embed'][ids]
        for li, ly in enumerate(layers):
            h = rms(x, ly['ln1'])
            q = lin(h, ly['q'], lora[li]['q']).view(Bsz, T, H, d).transpose(1, 2)
            k = lin(h, ly['k']).view(Bsz, T, Hk, d).transpose(1, 2)
            v = lin(h, ly['v'], lora[li]['v']).view(Bsz, T, Hk, d).transpose(1, 2)
            q, k = rope(q, pos), rope(k, pos)
            if cache is not None:
                if cache['k'][li] is not None:
                    k = torch.cat([cache['k'][li], k], 2)
                    v = torch.cat([cache['v'][li], v], 2)
                cache['k'][li], cache['v'][li] = k, v
            k = k.repeat_interleave(H // Hk, 1)
            v = v.repeat_interleave(H // Hk, 1)
            S = k.shape[2]
            att = (q @ k.transpose(-1, -2)) / math.sqrt(d)
            mask = torch.ones(T, S, dtype=torch.bool).tril(S - T)
            att = att.masked_fill(~mask, float('-inf')).softmax(-1)
            o = (att @ v).transpose(1, 2).reshape(Bsz, T, H * d)
            x = x + lin(o, ly['o'])
            h = rms(x, ly['ln2'])
            x = x + lin(F.silu(lin(h, ly['gate'])) * lin(h, ly['up']), ly['down'])
        if cache is not None:
            cache['len'] = start + T
        return rms(x, params['norm']) @ params['lm_head'].t()

    trainable = [t for e in lora for ab in e.values() for t in ab]
    return forward, trainable


def adamw(params):
    import torch
    return torch.optim.AdamW([{'params': params, 'weight_decay': 0.01}], lr=1e-3)


def time_steps(step, warmup, steps):
    for _ in range(warmup):
        step()
    wall = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        wall.append((time.perf_counter() - t) * 1000)
    return {'msMedian': statistics.median(wall), 'msMin': min(wall), 'n': steps}


def lora_step_fn(forward, trainable, ids):
    import torch
    import torch.nn.functional as F
    opt = adamw(trainable)
    inputs, labels = ids[:, :-1], ids[:, 1:]

    def step():
        logits = forward(inputs)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        loss.item()
    return step


def bench_llama(s):
    import torch
    forward, trainable = build_llama(s)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, s['vocab'], (s['batch'], s['seq'] + 1), generator=g)
    out = {}
    out['loraStep'] = time_steps(lora_step_fn(forward, trainable, ids), s['warmup'], s['steps'])

    def fwd():
        with torch.no_grad():
            forward(ids[:, :-1]).sum().item()
    out['forward'] = time_steps(fwd, 1, s['forwardReps'])

    prompt = ids[:1, : s['promptLen']]

    def gen():
        cache = {'k': [None] * s['layers'], 'v': [None] * s['layers'], 'len': 0}
        with torch.no_grad():
            logits = forward(prompt, cache)
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            for _ in range(s['newTokens'] - 1):
                logits = forward(nxt, cache)
                nxt = logits[:, -1].argmax(-1, keepdim=True)
        nxt.item()
    g_t = time_steps(gen, 1, 3)
    out['generate'] = {**g_t, 'tokensPerSecond': s['newTokens'] * 1000 / g_t['msMin'], 'newTokens': s['newTokens']}
    return out


def f32_to_bf16_bits(a):
    """Round-to-nearest-even float32 → bfloat16 bit patterns (what torch's .to(torch.bfloat16) does)."""
    u = a.astype(np.float32).view(np.uint32)
    rounding = ((u >> 16) & 1) + 0x7FFF
    return ((u + rounding) >> 16).astype(np.uint16)


def write_smol(s):
    """A LlamaForCausalLM checkpoint of SmolLM-135M's shape, random N(0, 0.02) weights stored BF16 (norms 1)."""
    os.makedirs(s['dir'], exist_ok=True)
    V, D, L, H, Hk, I = s['vocab'], s['hidden'], s['layers'], s['heads'], s['kvHeads'], s['intermediate']
    d = D // H
    rng = np.random.default_rng(s.get('seed', 0))
    tie = s.get('tie', True)
    shapes = [('model.embed_tokens.weight', (V, D)), ('model.norm.weight', (D,))]
    if not tie:
        shapes.append(('lm_head.weight', (V, D)))
    for i in range(L):
        p = f'model.layers.{i}.'
        shapes += [
            (p + 'input_layernorm.weight', (D,)), (p + 'post_attention_layernorm.weight', (D,)),
            (p + 'self_attn.q_proj.weight', (H * d, D)), (p + 'self_attn.k_proj.weight', (Hk * d, D)),
            (p + 'self_attn.v_proj.weight', (Hk * d, D)), (p + 'self_attn.o_proj.weight', (D, H * d)),
            (p + 'mlp.gate_proj.weight', (I, D)), (p + 'mlp.up_proj.weight', (I, D)), (p + 'mlp.down_proj.weight', (D, I)),
        ]
    header, offset = {'__metadata__': {'format': 'pt'}}, 0
    for name, shape in shapes:
        n = int(np.prod(shape)) * 2
        header[name] = {'dtype': 'BF16', 'shape': list(shape), 'data_offsets': [offset, offset + n]}
        offset += n
    hbytes = json.dumps(header, separators=(',', ':')).encode()
    hbytes += b' ' * ((8 - len(hbytes) % 8) % 8)
    with open(os.path.join(s['dir'], 'model.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(hbytes)))
        f.write(hbytes)
        for name, shape in shapes:
            if name.endswith('norm.weight'):
                values = np.ones(shape, np.float32)
            else:
                values = rng.standard_normal(shape, dtype=np.float32) * 0.02
            f.write(f32_to_bf16_bits(values).tobytes())
    config = {
        'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': V, 'hidden_size': D,
        'intermediate_size': I, 'num_hidden_layers': L, 'num_attention_heads': H, 'num_key_value_heads': Hk,
        'head_dim': d, 'max_position_embeddings': 2048, 'rms_norm_eps': 1e-5, 'rope_theta': 10000.0,
        'tie_word_embeddings': tie, 'hidden_act': 'silu', 'attention_bias': False, 'mlp_bias': False,
        'bos_token_id': 1, 'eos_token_id': 2, 'pad_token_id': None, 'torch_dtype': 'bfloat16',
    }
    with open(os.path.join(s['dir'], 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
    params = sum(int(np.prod(shape)) for _, shape in shapes)
    return {'parameters': params, 'bf16Bytes': offset, 'float32Bytes': params * 4}


def smol_step(s):
    import torch
    spec = dict(s, r=8, alpha=16)
    forward, trainable = build_llama(spec)
    ids = torch.randint(1, s['vocab'], (s['batch'], s['seq'] + 1), generator=torch.Generator().manual_seed(1))
    t = time_steps(lora_step_fn(forward, trainable, ids), 1, s['steps'])
    return {**t, 'secondsPerStep': t['msMin'] / 1000}


def main():
    spec = json.loads(sys.argv[1])
    out = {}
    if 'writeSmol' in spec:
        out['smolCheckpoint'] = write_smol(spec['writeSmol'])
    if 'llama' in spec or 'smolStep' in spec:
        import torch
        torch.set_num_threads(1)
        out['torch'] = torch.__version__
        out['threads'] = torch.get_num_threads()
        out['blas'] = blas_in_use()
        out['gflops1024'] = gflops()
        if 'llama' in spec:
            out['llama'] = bench_llama(spec['llama'])
        if 'smolStep' in spec:
            out['smolStep'] = smol_step(spec['smolStep'])
    print('RESULT ' + json.dumps(out))


if __name__ == '__main__':
    main()
