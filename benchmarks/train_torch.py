# The PyTorch side of `npm run bench:train` (benchmarks/train.ts runs it; not run by the test suite).
#   OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/train_torch.py '<json spec>'
# Spec: {"workloads": [{"name", "kind": "lr"|"mlp"|"transformer-lora"|"transformer-full", "batch", "warmup", "steps", ...sizes}]}
# Each workload times the same training step as Provenant's train(): forward, mean loss, backward, clip_grad_norm_(1.0),
# AdamW step (weight decay 0.01, none on vectors), loss.item(). Single thread: torch.set_num_threads(1) AND
# OPENBLAS_NUM_THREADS=1 (Debian's OpenBLAS ignores the former). Prints one line: RESULT <json>.
import json, math, statistics, sys, time

import torch
import torch.nn.functional as F

from torch_blas import mapped_blas_libraries

torch.set_num_threads(1)
torch.manual_seed(0)


def adamw(params):
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{'params': decay, 'weight_decay': 0.01}]
    if no_decay:
        groups.append({'params': no_decay, 'weight_decay': 0.0})
    return torch.optim.AdamW(groups, lr=1e-3)


def make_classifier(spec, hidden):
    sizes = [spec['inputSize'], *hidden, spec['numClasses']]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    x = torch.randn(spec['batch'], spec['inputSize'])
    y = torch.randint(0, spec['numClasses'], (spec['batch'],))
    params = list(model.parameters())
    return params, lambda: F.cross_entropy(model(x), y)


def make_transformer(spec, lora):
    V, D, H, L, T, Fh, R, alpha = spec['vocabSize'], spec['dModel'], spec['nHeads'], spec['nLayers'], spec['seqLen'], spec['mlpHidden'], spec.get('r', 8), spec.get('alpha', 16)
    hd, scale = D // H, alpha / R
    rn = lambda *s: torch.randn(*s) * 0.02
    P = {'tok': rn(V, D), 'pos': rn(T, D), 'lnfg': torch.ones(D), 'lnfb': torch.zeros(D), 'head': rn(D, V)}
    for l in range(L):
        P[f'ln1g{l}'], P[f'ln1b{l}'], P[f'ln2g{l}'], P[f'ln2b{l}'] = torch.ones(D), torch.zeros(D), torch.ones(D), torch.zeros(D)
        for n in 'qkvo':
            P[f'W{n}{l}'], P[f'b{n}{l}'] = rn(D, D), torch.zeros(D)
        P[f'W1{l}'], P[f'b1{l}'], P[f'W2{l}'], P[f'b2{l}'] = rn(D, Fh), torch.zeros(Fh), rn(Fh, D), torch.zeros(D)
    Lo = {}
    if lora:
        for l in range(L):
            for n in spec.get('targets', 'qv'):
                Lo[f'A{n}{l}'] = torch.randn(D, R) / math.sqrt(D)
                Lo[f'B{n}{l}'] = torch.zeros(R, D)
    for t in P.values():
        t.requires_grad_(not lora)
    for t in Lo.values():
        t.requires_grad_(True)
    mask = torch.triu(torch.full((T, T), float('-inf')), diagonal=1)
    r = torch.randint(1, V, (spec['batch'], T + 1))
    X, Y = r[:, :T], r[:, 1:]

    def forward():
        b, t = X.shape
        h = F.embedding(X, P['tok']) + P['pos'][:t]
        for l in range(L):
            a = F.layer_norm(h, (D,), P[f'ln1g{l}'], P[f'ln1b{l}'])

            def proj(n):
                y = a @ P[f'W{n}{l}'] + P[f'b{n}{l}']
                if f'A{n}{l}' in Lo:
                    y = y + (a @ Lo[f'A{n}{l}']) @ Lo[f'B{n}{l}'] * scale
                return y
            q, k, v = [proj(n).view(b, t, H, hd).transpose(1, 2) for n in 'qkv']
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask[:t, :t], dim=-1)
            o = (att @ v).transpose(1, 2).reshape(b, t, D)
            h = h + o @ P[f'Wo{l}'] + P[f'bo{l}']
            m = F.layer_norm(h, (D,), P[f'ln2g{l}'], P[f'ln2b{l}'])
            h = h + F.gelu(m @ P[f'W1{l}'] + P[f'b1{l}'], approximate='tanh') @ P[f'W2{l}'] + P[f'b2{l}']
        logits = F.layer_norm(h, (D,), P['lnfg'], P['lnfb']) @ P['head']
        return F.cross_entropy(logits.reshape(-1, V), Y.reshape(-1))

    params = list(Lo.values()) if lora else list(P.values())
    return params, forward


def run(spec):
    kind = spec['kind']
    if kind == 'lr':
        params, loss_fn = make_classifier(spec, [])
    elif kind == 'mlp':
        params, loss_fn = make_classifier(spec, spec['hiddenSizes'])
    else:
        params, loss_fn = make_transformer(spec, kind == 'transformer-lora')
    opt = adamw(params)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    for _ in range(spec['warmup']):
        step()
    wall, cpu = [], []
    for _ in range(spec['steps']):
        c0, t0 = time.process_time(), time.perf_counter()
        step()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return {'name': spec['name'], 'msPerStep': statistics.median(wall), 'minMsPerStep': min(wall), 'cpuMsPerStep': statistics.median(cpu), 'batch': spec['batch']}


spec = json.loads(sys.argv[1])

out = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': mapped_blas_libraries(), 'results': [run(w) for w in spec['workloads']]}
print('RESULT ' + json.dumps(out))
