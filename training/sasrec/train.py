"""Site-side trainer of the engine's behaviour model: a SASRec-style causal transformer.

Run with Debian's interpreter (/usr/bin/python3, packages python3-torch python3-onnx
libopenblas0-pthread). Input is a folder written by the Node side (tools/sequence-model.ts):

  input.json  {"items": [catalog ids, model order], "textDims": D, "typeNames": ["view", "like"],
               "encoder": {"name", "modelHash"}, "users": [{"items": [int], "types": [int],
               "validation": {"item": int, "type": int} | null}], "check": [[int], [int]] optional}
  text.bin    float32 [len(items), D]: each item's unit text vector from the shipped encoder

Item indices in `users` are 0-based positions in `items`; types are 1-based positions in
typeNames (0 is padding). The validation targets are used only to choose the epoch
(early stopping): the trainer never sees an evaluation's test target, and the Node side
never passes one.

Output folder (the model folder the engine loads, see README.md):
  model.onnx       items int64 [batch, N] (model index + 1, 0 = padding, left padded),
                   types int64 [batch, N], rows float32 [batch, N, d] (each item's row of
                   items.bin times itemScale, 0 for padding) -> user_state float32 [batch, d],
                   conversion_state float32 [batch, d]; Linear weights float32, or int8 with
                   one scale per output unit dequantized in the graph (--weights)
  items.bin        int8 [len(items), d]: the item table (ID embedding + projected text vector),
                   one symmetric scale for the whole table (manifest itemScale); stored only here
  projection.bin   float32 [D + 1, d]: the text projection (weights, then bias) for items added
                   after training (their embedding = projection of their text vector)
  items.json       the catalog ids, model order
  manifest.json    files with SHA-256 and size, dims, maxLength, eventTypes, encoder, training figures
  reference.json   (with --reference) the exported model's own outputs in PyTorch for `check`
"""

import argparse
import copy
import hashlib
import json
import math
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def log(msg):
    print(f"[sasrec] {msg}", flush=True)


class Block(nn.Module):
    """Pre-norm transformer block: causal self-attention + feed-forward."""

    def __init__(self, d, heads, dropout):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, d)
        self.ff2 = nn.Linear(d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, bias):
        b, n, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        q = q.reshape(b, n, h, d // h).transpose(1, 2)
        k = k.reshape(b, n, h, d // h).transpose(1, 2)
        v = v.reshape(b, n, h, d // h).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d // h) + bias
        att = self.drop(torch.softmax(att, dim=-1))
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, n, d)
        x = x + self.drop(self.out(y))
        return x + self.drop(self.ff2(self.drop(F.gelu(self.ff1(self.ln2(x))))))


class SASRec(nn.Module):
    def __init__(self, n_items, text, has_id, n_types, d, blocks, heads, max_len, dropout):
        super().__init__()
        self.max_len = max_len
        self.id_emb = nn.Embedding(n_items + 1, d, padding_idx=0)
        nn.init.normal_(self.id_emb.weight, std=0.02)
        self.register_buffer("text", torch.cat([torch.zeros(1, text.shape[1]), text]))
        self.register_buffer("has_id", torch.cat([torch.zeros(1), has_id]))
        self.proj = nn.Linear(text.shape[1], d)
        # the text path starts at zero: the model starts as a plain ID model and learns how much the text vectors carry
        # (a default-initialised projection of unit text vectors outweighed the 0.02-std ID embeddings at the start)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)
        self.pos = nn.Embedding(max_len, d)
        self.type_emb = nn.Embedding(n_types + 1, d, padding_idx=0)
        self.blocks = nn.ModuleList([Block(d, heads, dropout) for _ in range(blocks)])
        self.ln = nn.LayerNorm(d)
        self.conv = nn.Linear(d, d)
        self.conv_bias = nn.Parameter(torch.zeros(1))
        self.drop = nn.Dropout(dropout)
        self.table_override = None  # the dequantized int8 table after export

    def table(self, id_keep=None):
        """Item representations [n_items + 1, d]: ID embedding (items with interactions) + projected text; row 0 = padding."""
        if self.table_override is not None:
            return self.table_override
        keep = self.has_id if id_keep is None else self.has_id * id_keep
        t = self.id_emb.weight * keep[:, None] + self.proj(self.text)
        return t * (torch.arange(t.shape[0]) > 0).float()[:, None]

    def encode(self, items, types, table):
        return self.encode_rows(table[items], items, types)

    def encode_rows(self, rows, items, types):
        """The states [batch, n, d] from the item rows of a left-padded window."""
        n = items.shape[1]
        present = (items > 0).float()
        x = rows + self.type_emb(types) + self.pos.weight[None, self.max_len - n :]
        x = self.drop(x) * present[..., None]
        # causal mask from index comparisons (torch.eye would export a bool EyeLike onnxruntime-web cannot run)
        idx = torch.arange(n)
        allowed = (idx[None, :] <= idx[:, None]).float()[None] * present[:, None, :]
        bias = ((1.0 - allowed) * -1e9)[:, None]
        for blk in self.blocks:
            x = blk(x, bias)
        return self.ln(x)

    def forward(self, items, types):
        h = self.encode(items, types, self.table())[:, -1]
        return h, self.conv(h)


def left_pad(seq, n):
    seq = seq[-n:]
    return [0] * (n - len(seq)) + seq


def load_input(folder):
    spec = json.load(open(os.path.join(folder, "input.json")))
    n = len(spec["items"])
    text = np.fromfile(os.path.join(folder, "text.bin"), dtype="<f4").reshape(n, spec["textDims"])
    return spec, torch.from_numpy(text.copy())


def metrics(model, users, n_items, max_len, device_batch=256):
    """Validation HR@10 and NDCG@10 over the full catalog, training items excluded."""
    model.eval()
    hits = ndcg = count = 0
    with torch.no_grad():
        table = model.table()
        for s in range(0, len(users), device_batch):
            chunk = [u for u in users[s : s + device_batch] if u["validation"] is not None]
            if not chunk:
                continue
            items = torch.tensor([left_pad([i + 1 for i in u["items"]], max_len) for u in chunk])
            types = torch.tensor([left_pad(u["types"], max_len) for u in chunk])
            h = model.encode(items, types, table)[:, -1]
            scores = h @ table[1:].T
            for r, u in enumerate(chunk):
                scores[r, torch.tensor(u["items"], dtype=torch.long)] = -math.inf
                target = u["validation"]["item"]
                st = scores[r, target]
                rank = int((scores[r] > st).sum()) + int((scores[r, :target] == st).sum())
                count += 1
                if rank < 10:
                    hits += 1
                    ndcg += 1 / math.log2(rank + 2)
    model.train()
    return hits / max(1, count), ndcg / max(1, count)


def train(spec, text, args):
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    n_items = len(spec["items"])
    users = spec["users"]
    counts = np.zeros(n_items)
    for u in users:
        for i in u["items"]:
            counts[i] += 1
    has_id = torch.from_numpy((counts > 0).astype(np.float32))
    # each item's share of the training targets (add-one), row 0 = padding: the sampling probability of --sampling batch
    pop = torch.from_numpy(np.concatenate([[0.0], (counts + 1) / (counts + 1).sum()]).astype(np.float32))
    model = SASRec(n_items, text, has_id, len(spec["typeNames"]), args.dims, args.blocks, args.heads, args.max_len, args.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    # training windows of max_len + 1 interactions, from the end of each user's training sequence back
    # (a long history gives several; every interaction is a target once)
    seqs = []
    for u in users:
        n = len(u["items"])
        for end in range(n, 1, -args.max_len):
            start = max(0, end - args.max_len - 1)
            seqs.append({"items": u["items"][start:end], "types": u["types"][start:end]})
    liked = set(t for t, name in enumerate(spec["typeNames"], start=1) if name in args.converting.split(","))
    best = (-1.0, -1.0)
    best_state = None
    best_epoch = 0
    since = 0
    history = []
    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(seqs))
        total = 0.0
        for s in range(0, len(order), args.batch):
            batch = [seqs[j] for j in order[s : s + args.batch]]
            win = [(u["items"], u["types"]) for u in batch]
            inp = torch.tensor([left_pad([i + 1 for i in it[:-1]], args.max_len) for it, _ in win])
            typ = torch.tensor([left_pad(ty[:-1], args.max_len) for _, ty in win])
            tgt = torch.tensor([left_pad([i + 1 for i in it[1:]], args.max_len) for it, _ in win])
            conv_label = torch.tensor([left_pad([1 if t in liked else 0 for t in ty[1:]], args.max_len) for _, ty in win]).float()
            # ID dropout: for this batch a share of the items is represented by its text projection alone
            keep = torch.from_numpy((rng.random(n_items + 1) >= args.id_dropout).astype(np.float32))
            table = model.table(keep)
            h = model.encode(inp, typ, table)
            mask = tgt > 0
            hm = h[mask]
            tm = tgt[mask]
            if args.negatives > 0 and args.sampling == "batch":
                # candidates: every target of the batch (drawn in proportion to popularity: the hard negatives) plus
                # --negatives uniform items; each logit corrected by the log of the candidate's inclusion probability (logQ)
                uni = torch.from_numpy(rng.integers(1, n_items + 1, size=args.negatives))
                cand = torch.unique(torch.cat([tm, uni]))
                p_in = 1 - (1 - pop[cand]) ** len(tm) * (1 - args.negatives / n_items)
                logits = hm @ table[cand].T - torch.log(p_in)[None]
                ce = F.cross_entropy(logits, torch.searchsorted(cand, tm))
            elif args.negatives > 0:
                neg = torch.from_numpy(rng.integers(1, n_items + 1, size=args.negatives))
                pos_logit = (hm * table[tm]).sum(-1, keepdim=True)
                neg_logit = hm @ table[neg].T
                neg_logit = neg_logit.masked_fill(neg[None, :] == tm[:, None], -1e9)
                ce = F.cross_entropy(torch.cat([pos_logit, neg_logit], 1), torch.zeros(len(tm), dtype=torch.long))
            else:
                ce = F.cross_entropy(hm @ table[1:].T, tm - 1)
            conv_logit = (model.conv(hm) * table[tm]).sum(-1) + model.conv_bias
            bce = F.binary_cross_entropy_with_logits(conv_logit, conv_label[mask])
            loss = ce + args.conversion_weight * bce
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(batch)
        out_of_time = time.time() - t0 > 60 * args.max_minutes
        if epoch % args.check_every and epoch < args.epochs and not out_of_time:
            continue
        hr, nd = metrics(model, users, n_items, args.max_len)
        history.append({"epoch": epoch, "loss": round(total / len(seqs), 4), "validationHr10": round(hr, 4), "validationNdcg10": round(nd, 4)})
        log(f"epoch {epoch}: loss {total / len(seqs):.4f}, validation HR@10 {hr:.4f} NDCG@10 {nd:.4f} ({time.time() - t0:.1f} s)")
        if (nd, hr) > best:
            best, best_epoch, since = (nd, hr), epoch, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            since += 1
            if since >= args.patience:
                log(f"early stop: no better validation NDCG@10 for {args.patience} checks")
                break
        if out_of_time:
            log(f"stop: the time budget of {args.max_minutes} minutes is spent")
            break
    model.load_state_dict(best_state)
    model.eval()
    return model, {"windows": len(seqs), "bestEpoch": best_epoch, "validationNdcg10": round(best[0], 4), "validationHr10": round(best[1], 4), "epochs": history, "seconds": round(time.time() - t0, 1)}


class Int8Linear(nn.Module):
    """A trained nn.Linear shipped as int8 weights with one symmetric scale per output unit
    (the project's own packing): in the graph Cast(int8) -> Mul(scales) -> MatMul -> Add(bias),
    and the same dequantized weights in PyTorch, so both compute the shipped model.
    `dynamic` simulates onnxruntime's dynamic quantization instead (DynamicQuantizeLinear:
    the input quantized to uint8 with one scale and zero point per tensor, then MatMulInteger),
    only to measure its parity (export never ships it)."""

    def __init__(self, linear):
        super().__init__()
        w = linear.weight.detach().T.contiguous()  # [in, out]
        scale = w.abs().amax(dim=0).clamp_min(1e-12) / 127.0
        self.register_buffer("q", torch.clamp(torch.round(w / scale[None, :]), -127, 127).to(torch.int8))
        self.register_buffer("scale", scale.float())
        self.register_buffer("bias", linear.bias.detach().clone())
        self.dynamic = False

    def forward(self, x):
        if self.dynamic:
            lo = torch.clamp(x.min(), max=0.0)
            hi = torch.clamp(x.max(), min=0.0)
            s = (hi - lo) / 255.0
            zp = torch.clamp(torch.round(-lo / s), 0, 255)
            x = (torch.clamp(torch.round(x / s) + zp, 0, 255) - zp) * s
        return torch.matmul(x, self.q.float() * self.scale[None, :]) + self.bias


LINEARS = ("qkv", "out", "ff1", "ff2")


def int8_weights(model):
    """Replaces the transformer's and the conversion head's Linear layers by Int8Linear (in place)."""
    for blk in model.blocks:
        for name in LINEARS:
            setattr(blk, name, Int8Linear(getattr(blk, name)))
    model.conv = Int8Linear(model.conv)


def set_dynamic(model, on):
    for m in model.modules():
        if isinstance(m, Int8Linear):
            m.dynamic = on


def probe_windows(spec, max_len, limit=256):
    """Up to `limit` users' last training windows (the histories the parity figures are measured on)."""
    users = [u for u in spec["users"] if u["items"]][:limit]
    items = torch.tensor([left_pad([i + 1 for i in u["items"]], max_len) for u in users])
    types = torch.tensor([left_pad(u["types"], max_len) for u in users])
    return items, types


def agreement(h, ref, table, k=10):
    """Max abs diff of user states, and the mean share of the top k items in common (scores over `table`)."""
    top = torch.topk(h @ table[1:].T, k, dim=1).indices
    top_ref = torch.topk(ref @ table[1:].T, k, dim=1).indices
    common = [len(set(a.tolist()) & set(b.tolist())) / k for a, b in zip(top, top_ref)]
    return {"maxAbsDiff": round(float((h - ref).abs().max()), 6), "top10Overlap": round(float(np.mean(common)), 4)}


PARITY_BOUND = 1e-3


def quantize(model, spec, args):
    """Quantizes the trained model in place (item table int8, one scale; the Linear layers int8, one
    scale per output unit, when --weights int8, or --weights auto and the int8 weights move the user
    state by at most PARITY_BOUND from the same model with float weights) and measures each step against
    the float model on the probe windows: the figures the manifest records ("quantization.parity").
    Sets args.int8_weights to the choice."""
    items, types = probe_windows(spec, args.max_len)
    with torch.no_grad():
        table = model.table()
        float_state = model(items, types)[0]
        scale = float(table.abs().max()) / 127.0
        q = torch.clamp(torch.round(table / scale), -127, 127).to(torch.int8)
        # from here on the PyTorch model is the shipped one: the same dequantized table
        model.table_override = q.float() * scale
        table_state = model(items, types)[0]
        parity = {"windows": int(items.shape[0]), "bound": PARITY_BOUND, "itemTableInt8": agreement(table_state, float_state, table)}
        quantized = copy.deepcopy(model)
        int8_weights(quantized)
        int8_state = quantized(items, types)[0]
        parity["itemTableAndWeightsInt8"] = agreement(int8_state, float_state, table)
        # what the int8 weights alone change: against the same model with float weights and the int8 table
        parity["weightsInt8VsFloatWeights"] = agreement(int8_state, table_state, table)
        set_dynamic(quantized, True)
        parity["onnxruntimeDynamicVsInt8Weights"] = agreement(quantized(items, types)[0], int8_state, table)
    within = parity["weightsInt8VsFloatWeights"]["maxAbsDiff"] <= PARITY_BOUND
    args.int8_weights = args.weights == "int8" or (args.weights == "auto" and within)
    parity["weights"] = "int8" if args.int8_weights else "float32"
    if args.int8_weights:
        int8_weights(model)
    log(f"quantization parity on {parity['windows']} windows: {json.dumps(parity)}")
    return q, scale, parity


class Export(nn.Module):
    """The exported graph: the item rows of the window come in as an input (the engine gathers them from
    items.bin, dequantized), so the item table is stored once, in items.bin."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, items, types, rows):
        h = self.last_state(rows, items, types)
        return h, self.model.conv(h)

    def last_state(self, rows, items, types):
        """SASRec.encode_rows(...)[:, -1] computed for the last position only where that is all that is read:
        the last block's attention has one query (the last event) and its feed-forward one row, which saves
        about a third of the graph's work at 200 events. Same arithmetic as the training graph."""
        m = self.model
        n = items.shape[1]
        present = (items > 0).float()
        x = rows + m.type_emb(types) + m.pos.weight[None, m.max_len - n :]
        x = x * present[..., None]
        idx = torch.arange(n)
        allowed = (idx[None, :] <= idx[:, None]).float()[None] * present[:, None, :]
        bias = ((1.0 - allowed) * -1e9)[:, None]
        for blk in m.blocks[:-1]:
            x = blk(x, bias)
        blk = m.blocks[-1]
        b, _, d = x.shape
        h = blk.heads
        q, k, v = blk.qkv(blk.ln1(x)).chunk(3, dim=-1)
        q = q[:, -1:].reshape(b, 1, h, d // h).transpose(1, 2)
        k = k.reshape(b, n, h, d // h).transpose(1, 2)
        v = v.reshape(b, n, h, d // h).transpose(1, 2)
        att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d // h) + bias[:, :, -1:], dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, 1, d)
        last = x[:, -1:] + blk.out(y)
        last = last + blk.ff2(F.gelu(blk.ff1(blk.ln2(last))))
        return m.ln(last)[:, 0]


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def export(model, spec, args, figures):
    os.makedirs(args.out, exist_ok=True)
    q, scale, parity = quantize(model, spec, args)
    exp = Export(model)
    exp.eval()
    dummy_items = torch.zeros(1, args.max_len, dtype=torch.long)
    dummy_items[0, -1] = 1
    dummy_types = torch.zeros(1, args.max_len, dtype=torch.long)
    dummy_types[0, -1] = 1
    dummy_rows = torch.zeros(1, args.max_len, args.dims)
    onnx_path = os.path.join(args.out, "model.onnx")
    torch.onnx.export(
        exp,
        (dummy_items, dummy_types, dummy_rows),
        onnx_path,
        input_names=["items", "types", "rows"],
        output_names=["user_state", "conversion_state"],
        dynamic_axes={
            "items": {0: "batch"},
            "types": {0: "batch"},
            "rows": {0: "batch"},
            "user_state": {0: "batch"},
            "conversion_state": {0: "batch"},
        },
        opset_version=args.opset,
        # folding would turn the int8 weights' Cast -> Mul back into float initializers (onnxruntime folds them in memory at load)
        do_constant_folding=not args.int8_weights,
    )
    import onnx

    onnx.checker.check_model(onnx.load(onnx_path))
    q[1:].numpy().tofile(os.path.join(args.out, "items.bin"))
    with torch.no_grad():
        proj = torch.cat([model.proj.weight.T, model.proj.bias[None]]).contiguous()
    proj.numpy().astype("<f4").tofile(os.path.join(args.out, "projection.bin"))
    with open(os.path.join(args.out, "items.json"), "w") as f:
        json.dump(spec["items"], f)
    names = ["model.onnx", "items.bin", "projection.bin", "items.json"]
    files = {n: {"sha256": sha256(os.path.join(args.out, n)), "bytes": os.path.getsize(os.path.join(args.out, n))} for n in names}
    lines = "\n".join(f"{k}:{files[k]['sha256']}" for k in sorted(files))
    manifest = {
        "format": "on-device-recs-model/v1",
        "name": args.name,
        "kind": "sequence-model",
        "model": "model.onnx",
        "dimensions": args.dims,
        "maxLength": args.max_len,
        "inputs": {
            "items": f"int64 [batch, {args.max_len}]: 1 + the item's row in items.json, 0 = padding (left padded, oldest first)",
            "types": f"int64 [batch, {args.max_len}]: 1 + the event type's position in eventTypes, 0 = padding",
            "rows": f"float32 [batch, {args.max_len}, {args.dims}]: the item's row of items.bin times itemScale (0 for padding)",
        },
        "outputs": {
            "user_state": f"float32 [batch, {args.dims}]: the next-item logit of item i is user_state . items[i]",
            "conversion_state": f"float32 [batch, {args.dims}]: the conversion logit of item i is conversion_state . items[i] + conversionBias",
        },
        "eventTypes": spec["typeNames"],
        "itemScale": scale,
        "conversionBias": float(model.conv_bias),
        "textDims": spec["textDims"],
        "encoder": spec.get("encoder"),
        "catalog": {"items": len(spec["items"]), "withInteractions": int(model.has_id.sum())},
        "quantization": {
            "itemTable": "int8 in items.bin only (the graph takes the window's rows as its rows input), one symmetric scale (itemScale)",
            "weights": "int8 per output unit, dequantized in the graph (Cast, Mul) before each MatMul: attention, feed-forward and conversion layers"
            if args.int8_weights
            else f"float32 (int8 moved the user state by {parity['weightsInt8VsFloatWeights']['maxAbsDiff']}, over the {PARITY_BOUND} bound)"
            if args.weights == "auto"
            else "float32",
            "parity": parity,
        },
        "training": {
            "seed": args.seed,
            "dims": args.dims,
            "blocks": args.blocks,
            "heads": args.heads,
            "dropout": args.dropout,
            "idDropout": args.id_dropout,
            "negatives": args.negatives,
            "sampling": args.sampling,
            "lr": args.lr,
            "batch": args.batch,
            "patience": args.patience,
            "checkEvery": args.check_every,
            "windows": figures.get("windows"),
            "conversionWeight": args.conversion_weight,
            "converting": args.converting,
            "opset": args.opset,
            "torch": torch.__version__,
            "users": len(spec["users"]),
            **{k: v for k, v in figures.items() if k not in ("epochs", "windows")},
        },
        "files": files,
        "hash": hashlib.sha256(lines.encode()).hexdigest(),
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    write_model_card(manifest, figures, args)
    return manifest


def write_model_card(manifest, figures, args):
    """MODEL_CARD.md beside the files: data, training, figures, size (not in the manifest's files: it is documentation)."""
    t = manifest["training"]
    qz = manifest["quantization"]
    par = qz["parity"]
    sizes = "\n".join(f"| `{n}` | {v['bytes']:,} |" for n, v in manifest["files"].items())
    checks = "\n".join(f"| {e['epoch']} | {e['loss']} | {e['validationHr10']} | {e['validationNdcg10']} |" for e in figures["epochs"])
    card = f"""# {manifest['name']}: behaviour model (SASRec-style transformer)

Trained site-side by `training/sasrec/train.py` (PyTorch {t['torch']}, one thread, seed {t['seed']}) from
{t['users']} users' ordered training events over {manifest['catalog']['items']:,} catalog items
({manifest['catalog']['withInteractions']:,} with interactions; the others carry only their projected text
vector from encoder `{(manifest.get('encoder') or {}).get('name')}`). Event types: {', '.join(manifest['eventTypes'])}.

- Network: {t['blocks']} causal transformer blocks of {t['dims']} dims, {t['heads']} heads, the last {manifest['maxLength']} events;
  item = ID embedding + projection of the text vector (ID dropout {t['idDropout']}); tied input/output item table.
- Losses: next-item cross-entropy ({'full softmax' if t['negatives'] == 0 else ("the batch's targets + " if t.get('sampling') == 'batch' else '') + str(t['negatives']) + ' uniform negatives per batch' + (', logQ-corrected' if t.get('sampling') == 'batch' else '')})
  + {t['conversionWeight']} x conversion BCE (next event one of {t['converting']}).
- Selection: validation NDCG@10 every {t['checkEvery']} epoch(s), patience {t['patience']} checks; best epoch
  {t['bestEpoch']}: validation HR@10 {t['validationHr10']}, NDCG@10 {t['validationNdcg10']}; {t['seconds']} s of training.
- Export: ONNX opset {t['opset']}; item table: {qz['itemTable']}; weights: {qz['weights']}.
- Quantization against the float model on {par['windows']} training windows (user state max abs diff, top-10 overlap):
  item table int8 {par['itemTableInt8']['maxAbsDiff']} / {par['itemTableInt8']['top10Overlap']};
  item table and weights int8 {par['itemTableAndWeightsInt8']['maxAbsDiff']} / {par['itemTableAndWeightsInt8']['top10Overlap']}
  (the int8 weights alone, against float weights: {par['weightsInt8VsFloatWeights']['maxAbsDiff']}; shipped: {par['weights']} weights);
  onnxruntime's dynamic quantization (activations uint8 per tensor) against the int8 weights
  {par['onnxruntimeDynamicVsInt8Weights']['maxAbsDiff']} / {par['onnxruntimeDynamicVsInt8Weights']['top10Overlap']}.

| file | bytes |
| --- | --- |
{sizes}

| epoch | loss | validation HR@10 | validation NDCG@10 |
| --- | --- | --- | --- |
{checks}
"""
    with open(os.path.join(args.out, "MODEL_CARD.md"), "w") as f:
        f.write(card)


def reference(model, spec, args):
    """The exported model's outputs in PyTorch (dequantized table) for the sequences in spec["check"]."""
    out = []
    with torch.no_grad():
        for seq in spec.get("check", []):
            items, types = seq
            it = torch.tensor([left_pad([i + 1 for i in items], args.max_len)])
            ty = torch.tensor([left_pad(types, args.max_len)])
            h, c = model(it, ty)
            scores = (h @ model.table()[1:].T)[0]
            top = torch.argsort(-scores, stable=True)[:10]
            out.append({"userState": h[0].tolist(), "conversionState": c[0].tolist(), "top10": top.tolist(), "scores": scores[top].tolist()})
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(out, f)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input")
    p.add_argument("out")
    p.add_argument("--name", default="sequence-model")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--dims", type=int, default=64)
    p.add_argument("--blocks", type=int, default=2)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--max-len", type=int, default=200)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--id-dropout", type=float, default=0.2)
    p.add_argument("--negatives", type=int, default=1024, help="sampled negatives per batch (0: full softmax)")
    p.add_argument(
        "--sampling",
        choices=["batch", "uniform"],
        default="batch",
        help="batch: the batch's own targets plus --negatives uniform items, logQ-corrected; uniform: --negatives uniform items only",
    )
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--patience", type=int, default=5, help="validation checks (epochs) without a better NDCG@10 before stopping")
    p.add_argument("--check-every", type=int, default=1, help="epochs between validation checks")
    p.add_argument("--max-minutes", type=float, default=9, help="training time budget")
    p.add_argument("--conversion-weight", type=float, default=0.5)
    p.add_argument("--converting", default="like,add_to_cart,purchase", help="event types that count as a conversion")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument(
        "--weights",
        choices=["auto", "int8", "float"],
        default="auto",
        help="the Linear layers: int8 (one scale per output unit), float32, or auto: int8 only if that moves the user state by at most 1e-3",
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reference", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    spec, text = load_input(args.input)
    log(f"{len(spec['users'])} users, {len(spec['items'])} items, text dims {spec['textDims']}")
    model, figures = train(spec, text, args)
    manifest = export(model, spec, args, figures)
    if args.reference:
        reference(model, spec, args)
    log(f"best epoch {figures['bestEpoch']}: validation HR@10 {figures['validationHr10']} NDCG@10 {figures['validationNdcg10']}; {figures['seconds']} s; wrote {args.out} ({manifest['hash'][:12]})")


if __name__ == "__main__":
    main()
