"""Ablation of the fine-tuning losses: builds the same pair's pack with each term switched off
and scores every variant with the scorecard (same held-out faces, same seed, same steps).

  full       the recipe (loop.FinetuneOptions defaults)
  no-dir     without the directional deformation loss
  no-rsc     without the relative structural consistency loss
  no-mix     without style mixing of the fine layers
  no-adv     without the patch discriminator
  no-smooth  without the warp smoothness prior

    /usr/bin/python3 training/finetune/ablate.py --pairs caricature-bigeyes anime --markdown docs/ablation.md
Packs go to .cache/ablation/<pair>-<variant>/ and are reused when present (delete to rebuild);
the full recipe is the shipped default pack models/packs/<pair>/ when it was built with it.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from finetune import scorecard  # noqa: E402
from finetune.loop import FinetuneOptions  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PAIRS = REPO.parent / "shared" / "data" / "pairs"
VARIANTS = {"full": {}, "no-dir": {"dir": 0}, "no-rsc": {"rsc": 0}, "no-mix": {"mix": False},
            "no-adv": {"adv": 0}, "no-smooth": {"smooth": 0}}


def shipped_is_full(pack, steps):
    """Whether models/packs/<pair> was built with the default recipe and these steps."""
    manifest = pack / "manifest.json"
    if not manifest.exists():
        return False
    training = json.loads(manifest.read_text()).get("training", {})
    defaults = FinetuneOptions().to_dict()
    options = training.get("options", {})
    return training.get("real") is not None and options.get("steps") == steps and all(
        options.get(k) == v for k, v in defaults.items() if k not in ("steps", "minutes"))


def build(pair, variant, out, steps, minutes):
    if (out / "manifest.json").exists():
        return
    cmd = ["npx", "tsx", "src/cli.ts", "pack", "build", "--real", str(PAIRS / f"{pair}.real.jpg"),
           "--style", str(PAIRS / f"{pair}.style.jpg"), "--name", f"{pair} {variant}", "--id", f"{pair}-{variant}",
           "--out", str(out), "--steps", str(steps), "--minutes", str(minutes), "--",
           "--options", json.dumps(VARIANTS[variant])]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=REPO, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", nargs="+", default=["caricature-bigeyes", "anime"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--out", type=Path, default=REPO / ".cache" / "ablation")
    ap.add_argument("--faces", type=int, default=24)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args()
    dirs = []
    for pair in args.pairs:
        for variant in args.variants:
            shipped = REPO / "models" / "packs" / pair
            if variant == "full" and shipped_is_full(shipped, args.steps):
                dirs.append(shipped)    # the default pack is the full recipe: no second build
                continue
            out = args.out / f"{pair}-{variant}"
            build(pair, variant, out, args.steps, args.minutes)
            dirs.append(out)
    # a hand-written "## Reading" section of an earlier run stays (re-read it against the new table)
    reading = ""
    if args.markdown and args.markdown.exists():
        text = args.markdown.read_text()
        reading = text[text.index("\n## Reading"):] if "\n## Reading" in text else ""
    scorecard.report(dirs, "Fine-tuning ablation: each loss off", "training/finetune/ablate.py", args.faces,
                     args.json, args.markdown)
    if reading:
        args.markdown.write_text(args.markdown.read_text().rstrip("\n") + "\n" + reading)


if __name__ == "__main__":
    main()
