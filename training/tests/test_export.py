"""ONNX export: graph ops, contract file, parity with onnxruntime-web (node, wasm EP)."""

import json

import onnx
import pytest
import torch

import export
import networks as N
from conftest import TINY, randomize_warps


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("base")
    torch.manual_seed(0)
    cfg = N.make_config(**TINY)
    E, G = N.build(cfg)
    randomize_warps(G)                      # exercise GridSample with a real deformation
    E.eval(), G.eval()
    export.export(out, E, G, cfg, fp16=True)
    return out, cfg, E, G


def test_graph_uses_webgpu_ops(exported):
    out = exported[0]
    for name in ["encoder", "generator", "encoder.fp16", "generator.fp16"]:
        model = onnx.load(str(out / f"{name}.onnx"))
        assert model.opset_import[0].version == export.OPSET
        ops = {n.op_type for n in model.graph.node}
        assert ops <= export.WEBGPU_OPS, ops - export.WEBGPU_OPS
        assert "GridSample" in ops or name.startswith("encoder")


def test_io_names_and_static_shapes(exported):
    out, cfg, E, G = exported
    contract = json.loads((out / "contract.json").read_text())
    assert contract == export.contract(cfg, G.n_latent)
    for part in ("encoder", "generator"):
        model = onnx.load(str(out / contract[part]["file"]))
        for kind, values in (("inputs", model.graph.input), ("outputs", model.graph.output)):
            got = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in values}
            want = {k: v["shape"] for k, v in contract[part][kind].items()}
            assert got == want


def test_parity_onnxruntime_web(exported):
    if not export.ort_available():
        pytest.skip("onnxruntime-web (node_modules) or node not available for the parity check")
    out, cfg, E, G = exported
    for suffix, tol in (("", 1e-4), (".fp16", 2e-2)):
        err, _ = export.parity(out, E, G, cfg, alpha=1.3, suffix=suffix)
        assert max(err.values()) < tol, (suffix, err)
