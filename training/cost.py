"""Cost of the encoder and generator at batch 1: parameters, MACs and CPU ms/forward.

MACs are counted with forward hooks on the modules that do the arithmetic (Conv2d,
Linear, EqualLinear, ModulatedConv2d); grid_sample, resizes and element-wise ops
are left out (well under 1% here).

    nice /usr/bin/python3 training/cost.py                          # default config
    nice /usr/bin/python3 training/cost.py --config '{"feature_ch": 64}'
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see train.py: spinning threads hurt on shared cores
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import networks as N  # noqa: E402


def count_macs(module, *inputs):
    """MACs of one forward of `module` on `inputs` (per the whole batch)."""
    total = [0]

    def conv_hook(m, inp, out):
        total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inp, out):
        total[0] += out.numel() * m.weight.shape[1]

    def modconv_hook(m, inp, out):
        total[0] += out.numel() * m.in_ch * m.kernel_size ** 2
        if m.demodulate:
            total[0] += inp[0].shape[0] * m.in_ch * m.out_ch

    handles = []
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, (nn.Linear, N.EqualLinear)):
            handles.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, N.ModulatedConv2d):
            handles.append(m.register_forward_hook(modconv_hook))
    with torch.no_grad():
        module(*inputs)
    for h in handles:
        h.remove()
    return total[0]


def time_forward(module, inputs, runs=20, warmup=3):
    """Median wall-clock ms of one no-grad forward."""
    times = []
    with torch.no_grad():
        for i in range(warmup + runs):
            t = time.perf_counter()
            module(*inputs)
            if i >= warmup:
                times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def report(cfg, runs=20):
    encoder, generator = N.build(cfg)
    encoder.eval(), generator.eval()
    image = torch.randn(1, 3, cfg["size"], cfg["size"])
    with torch.no_grad():
        w_plus, features = encoder(image)
    alpha = torch.ones(1)
    rows = {}
    for name, module, inputs in [("encoder", encoder, (image,)),
                                 ("generator", generator, (w_plus, features, alpha))]:
        params = sum(p.numel() for p in module.parameters())
        rows[name] = {"params_M": params / 1e6, "GMAC": count_macs(module, *inputs) / 1e9,
                      "ms_cpu": time_forward(module, inputs, runs),
                      "fp16_MB": params * 2 / 2 ** 20}
    rows["total"] = {k: rows["encoder"][k] + rows["generator"][k] for k in rows["encoder"]}
    return rows, {"L": generator.n_latent, "D": cfg["style_dim"], "C": cfg["feature_ch"],
                  "S": cfg["feature_res"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="{}", help="JSON overrides of networks.DEFAULT_CONFIG")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = N.make_config(**json.loads(args.config))
    rows, shapes = report(cfg, args.runs)
    print("shapes", shapes)
    print(f"{'':10s} {'params(M)':>10s} {'GMAC':>8s} {'ms/fwd':>8s} {'fp16 MB':>8s}")
    for name, r in rows.items():
        print(f"{name:10s} {r['params_M']:10.3f} {r['GMAC']:8.3f} {r['ms_cpu']:8.1f} {r['fp16_MB']:8.2f}")


if __name__ == "__main__":
    main()
