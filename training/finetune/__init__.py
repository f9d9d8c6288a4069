"""DoesFS-style one-shot style fine-tuning of the base STN-StyleGAN generator.

    networks.py     StyleMixing, base-model / latent-pool loading
    losses.py       DirectionalDeformationLoss, RelativeStructureLoss, PairReconstruction,
                    WarpSmoothness (+ the GAN terms of training/losses.py)
    loop.py         finetune(): the optimisation (separate lrs for warps / weights, EMA)
    metrics.py      directional score, warp magnitude, guide correspondence accuracy
    build_pack.py   CLI glue: aligned pair -> fine-tune -> generator.onnx + preview.png
Run from the repo root with training/ on sys.path (the scripts do it themselves).
"""
