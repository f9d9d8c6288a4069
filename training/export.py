"""Export the base encoder and generator to ONNX (opset 17, batch 1, no dynamic axes) and
write the model I/O contract (docs/model-contract.md) next to them.

    /usr/bin/python3 training/export.py --checkpoint runs/NAME/checkpoint.pt     # EMA weights
    /usr/bin/python3 training/export.py --checkpoint models/base/checkpoint-latest.pt
    /usr/bin/python3 training/export.py --random-init --out /tmp/untrained      # contract test models

Writes OUT/encoder.onnx, OUT/generator.onnx, OUT/contract.json (and with --fp16 also
encoder.fp16.onnx / generator.fp16.onnx: weights stored as float16 with a Cast to float32
in front, so inputs, outputs and arithmetic stay float32 but the download halves).
Then checks parity against PyTorch with onnxruntime-web (wasm) in node and prints the max
abs error (skipped with a message if node or onnxruntime-web is missing).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import networks as N  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
OPSET = 17
# Ops that onnxruntime-web's WebGPU EP implements on the GPU (js/web docs/webgpu-operators
# and the JSEP op table of onnxruntime-web 1.30). Shape-only ops (Reshape, Shape, Squeeze,
# Unsqueeze) are handled on CPU by design and cost nothing at batch 1 with static shapes.
WEBGPU_OPS = {
    "Add", "BatchNormalization", "Cast", "Clip", "Concat", "Conv", "Div", "Exp", "Expand",
    "Gather", "Gemm", "GlobalAveragePool", "GridSample", "LeakyRelu", "MatMul", "Mul",
    "Pow", "Reciprocal", "ReduceMean", "ReduceSum", "Relu", "Resize", "Sigmoid", "Slice",
    "Split", "Sqrt", "Sub", "Tanh", "Transpose", "AveragePool", "Where",
    "Pad", "Reshape", "Shape", "Squeeze", "Unsqueeze", "Flatten", "Identity",
    "DepthToSpace",
    "Constant",  # becomes an initializer
}


class EncoderExport(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, image):
        return self.encoder(image)


class GeneratorExport(nn.Module):
    """Clamps the image to the contract's pixel range [-1, 1]."""

    def __init__(self, generator):
        super().__init__()
        self.generator = generator

    def forward(self, w_plus, features, alpha):
        image, flow = self.generator(w_plus, features, alpha)
        return image.clamp(-1, 1), flow


def load_models(checkpoint=None, config=None):
    """(cfg, encoder, generator) in eval mode. Takes the EMA weights of a training
    checkpoint, or a compact checkpoint (train.py --compact), or random init."""
    if checkpoint:
        ck = torch.load(checkpoint, map_location="cpu")
        cfg = N.config_from_checkpoint(ck["config"])
        enc_sd = ck.get("encoder_ema", ck["encoder"])
        gen_sd = ck.get("generator_ema", ck["generator"])
    else:
        cfg = N.make_config(**(config or {}))
        enc_sd = gen_sd = None
    encoder, generator = N.build(cfg)
    if enc_sd is not None:
        encoder.load_state_dict(enc_sd)
        generator.load_state_dict(gen_sd)
    return cfg, encoder.eval(), generator.eval()


def contract(cfg, L):
    """The contract of docs/model-contract.md with L, D, C, S filled in."""
    size, D, S = cfg["size"], cfg["style_dim"], cfg["feature_res"]
    C = cfg["feature_ch"] + 4 * cfg.get("detail_ch", 0)   # + the detail path's packed channels
    return {
        "contractVersion": N.contract_version(cfg),
        "crop": {"size": size, "alignment": cfg["alignment"]},
        "pixel": {"layout": "NCHW", "channels": "RGB", "range": [-1, 1]},
        "encoder": {
            "file": "encoder.onnx",
            "inputs": {"image": {"shape": [1, 3, size, size], "dtype": "float32"}},
            "outputs": {"w_plus": {"shape": [1, L, D], "dtype": "float32"},
                        "features": {"shape": [1, C, S, S], "dtype": "float32"}},
        },
        "generator": {
            "file": "generator.onnx",
            "inputs": {"w_plus": {"shape": [1, L, D]}, "features": {"shape": [1, C, S, S]},
                       "alpha": {"shape": [1]}},
            "outputs": {"image": {"shape": [1, 3, size, size]}, "flow": {"shape": [1, 2, size, size]}},
        },
        "alpha": {"min": 0, "max": 1.5, "default": 1},
    }


def frozen_warps(generator):
    """Copy of the generator whose warp fields are constants (x alpha), so the ONNX graph
    has no trigonometry / TPS basis left to fold."""
    import copy

    g = copy.deepcopy(generator).eval()
    for w in g.warps:
        w.freeze()
    return g


def export_onnx(module, inputs, input_names, output_names, path):
    with torch.no_grad(), warnings.catch_warnings():
        # batch-1 static export by contract: the tracer's notes on python-bool shape checks
        # and constant shape inference are expected
        warnings.simplefilter("ignore")
        torch.onnx.export(module, inputs, str(path), opset_version=OPSET, input_names=input_names,
                          output_names=output_names, do_constant_folding=True)
    import onnx

    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    ops = sorted({n.op_type for n in model.graph.node})
    unsupported = [op for op in ops if op not in WEBGPU_OPS]
    if unsupported:
        print(f"WARNING {path.name}: ops not on the WebGPU list: {unsupported}")
    return ops


def to_fp16_weights(src, dst):
    """Copy of an ONNX model with float32 initializers stored as float16, each followed by
    a Cast back to float32 (ORT folds the casts at load, so inference stays float32)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    casts, keep = [], []
    for init in graph.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype != np.float32 or arr.size < 16:   # scalars/shapes: not worth it
            keep.append(init)
            continue
        half = numpy_helper.from_array(arr.astype(np.float16), init.name + "_fp16")
        keep.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT,
                                      name=init.name + "_cast"))
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def ort_available():
    node = shutil.which("node")
    return node is not None and (REPO / "node_modules" / "onnxruntime-web").exists()


def run_ort(model_path, inputs, runs=5):
    """Run a model in onnxruntime-web (node, wasm EP): ({name: array}, median ms)."""
    with tempfile.TemporaryDirectory() as d:
        for name, arr in inputs.items():
            np.save(os.path.join(d, f"in.{name}.npy"), np.ascontiguousarray(arr, dtype=np.float32))
        res = subprocess.run(["node", str(REPO / "training" / "ort_run.mjs"), str(model_path), d, str(runs)],
                             capture_output=True, text=True, cwd=REPO, timeout=600)
        if res.returncode != 0:
            raise RuntimeError(f"ort_run.mjs failed:\n{res.stderr[-3000:]}")
        info = json.loads(res.stdout.strip().splitlines()[-1])
        outs = {name: np.load(os.path.join(d, f"out.{name}.npy")) for name in info["outputs"]}
    return outs, info["ms"]


def parity(out_dir, encoder, generator, cfg, alpha=1.0, seed=0, suffix=""):
    """Max abs error PyTorch vs onnxruntime-web for encoder and generator on a random input."""
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(1, 3, cfg["size"], cfg["size"], generator=g) * 2 - 1
    a = torch.tensor([alpha])
    with torch.no_grad():
        w_plus, features = encoder(image)
        ref_img, ref_flow = GeneratorExport(generator)(w_plus, features, a)
    enc_out, enc_ms = run_ort(Path(out_dir) / f"encoder{suffix}.onnx", {"image": image.numpy()})
    gen_out, gen_ms = run_ort(Path(out_dir) / f"generator{suffix}.onnx",
                              {"w_plus": w_plus.numpy(), "features": features.numpy(), "alpha": a.numpy()})
    err = {
        "w_plus": float(np.abs(enc_out["w_plus"] - w_plus.numpy()).max()),
        "features": float(np.abs(enc_out["features"] - features.numpy()).max()),
        "image": float(np.abs(gen_out["image"] - ref_img.numpy()).max()),
        "flow": float(np.abs(gen_out["flow"] - ref_flow.numpy()).max()),
    }
    return err, {"encoder_ms_wasm": enc_ms, "generator_ms_wasm": gen_ms}


def export(out_dir, encoder, generator, cfg, fp16=False):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    image = torch.zeros(1, 3, cfg["size"], cfg["size"])
    with torch.no_grad():
        w_plus, features = encoder(image)
    # wrappers in eval mode: export restores the wrapper's mode recursively afterwards
    ops_e = export_onnx(EncoderExport(encoder).eval(), (image,), ["image"], ["w_plus", "features"], out_dir / "encoder.onnx")
    ops_g = export_onnx(GeneratorExport(frozen_warps(generator)).eval(), (w_plus, features, torch.ones(1)),
                        ["w_plus", "features", "alpha"], ["image", "flow"], out_dir / "generator.onnx")
    if fp16:
        to_fp16_weights(out_dir / "encoder.onnx", out_dir / "encoder.fp16.onnx")
        to_fp16_weights(out_dir / "generator.onnx", out_dir / "generator.fp16.onnx")
    c = contract(cfg, generator.n_latent)
    (out_dir / "contract.json").write_text(json.dumps(c, indent=2) + "\n")
    return {"encoder_ops": ops_e, "generator_ops": ops_g}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", help="runs/NAME/checkpoint.pt or a compact checkpoint")
    ap.add_argument("--random-init", action="store_true", help="export an untrained model (contract tests)")
    ap.add_argument("--config", default="{}", help="JSON config overrides for --random-init")
    ap.add_argument("--out", default=str(REPO / "models" / "base"))
    ap.add_argument("--fp16", action="store_true", help="also write *.fp16.onnx (float16 weights)")
    ap.add_argument("--no-parity", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not args.checkpoint and not args.random_init:
        ap.error("give --checkpoint PATH or --random-init")
    torch.manual_seed(args.seed)
    cfg, encoder, generator = load_models(args.checkpoint, json.loads(args.config))
    info = export(args.out, encoder, generator, cfg, args.fp16)
    for name in ["encoder", "generator"] + (["encoder.fp16", "generator.fp16"] if args.fp16 else []):
        p = Path(args.out) / f"{name}.onnx"
        print(f"{p}: {p.stat().st_size / 2 ** 20:.2f} MB")
    print("encoder ops:", " ".join(info["encoder_ops"]))
    print("generator ops:", " ".join(info["generator_ops"]))
    print(f"contract: L={generator.n_latent} D={cfg['style_dim']} C={cfg['feature_ch']}+4x{cfg.get('detail_ch', 0)} S={cfg['feature_res']} "
          f"-> {Path(args.out) / 'contract.json'}")
    if args.no_parity:
        return
    if not ort_available():
        print("parity: SKIPPED (needs node and node_modules/onnxruntime-web; run npm install)")
        return
    for suffix in [""] + ([".fp16"] if args.fp16 else []):
        err, ms = parity(args.out, encoder, generator, cfg, suffix=suffix)
        print(f"parity{suffix or ' fp32'} (onnxruntime-web wasm vs PyTorch) max abs error: "
              + ", ".join(f"{k} {v:.2e}" for k, v in err.items())
              + f"; wasm 1-thread ms: encoder {ms['encoder_ms_wasm']:.1f}, generator {ms['generator_ms_wasm']:.1f}")


if __name__ == "__main__":
    main()
