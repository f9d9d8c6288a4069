"""Run folders (NVlabs-style): `runs/NAME/` holds options.json, logs, samples and checkpoint.pt.

    /usr/bin/python3 training/runs.py share runs/NAME models/base/resume   # committable resume state
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

RUN_FILES = ("options.json", "log.jsonl")


def open_run(args: argparse.Namespace, explicit: set) -> tuple[Path, argparse.Namespace]:
    """Starts `<runs_dir>/<run>` or resumes `args.resume`, whose saved options are reused except
    those given explicitly on this command line. Writes options.json; returns (folder, options)."""
    if args.resume:
        run_dir = Path(args.resume)
        if not (run_dir / "checkpoint.pt").exists():
            sys.exit(f"{run_dir} has no checkpoint.pt to resume from")
        opts = json.loads((run_dir / "options.json").read_text())
        for k in explicit - {"resume"}:
            if opts.get(k) != getattr(args, k):
                print(f"resume: option {k} changed {opts.get(k)!r} -> {getattr(args, k)!r}")
                opts[k] = getattr(args, k)
        opts["resume"] = str(run_dir)
    else:
        run_dir = Path(args.runs_dir) / args.run
        if (run_dir / "checkpoint.pt").exists():
            sys.exit(f"{run_dir} already has a checkpoint: use --resume {run_dir}")
        opts = vars(args)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "options.json").write_text(json.dumps(opts, indent=2))
    return run_dir, argparse.Namespace(**opts)


def explicit_options(parser: argparse.ArgumentParser, argv=None) -> set:
    """Names of the options given on the command line, even where the value equals the default
    (so `--resume RUN --compact ""` can switch a saved option back off)."""
    unset = object()
    probe = argparse.Namespace(**{action.dest: unset for action in parser._actions})
    parser.parse_args(argv, namespace=probe)  # argparse only fills defaults for missing attributes
    return {name for name, value in vars(probe).items() if value is not unset}


def share_resume(run_dir, out_dir, drop_discriminator=False):
    """Writes the committable copy of a run's resume state to out_dir: checkpoint.pt plus
    options.json and log.jsonl. The run's own checkpoint is exact and large (31 MiB for the base
    model); this copy leaves out what resuming can rebuild or barely needs:
      * a discriminator that never took a step (adversarial term off) is dropped: train.py
        rebuilds it from the run's seed, bit for bit the same;
      * Adam's moments are stored as bfloat16 (relative error 2^-8; Adam's load_state_dict
        casts them back to float32), which halves the largest part.
    Weights, EMA weights, step counters, data-stream position and RNG states stay exact.
    drop_discriminator: also leave out a trained discriminator and its Adam state (a third of the
    file once the adversarial term is on): resuming starts a fresh one from the seed, which costs
    the D a warm-up, not the generator its training."""
    import torch

    run_dir, out_dir = Path(run_dir), Path(out_dir)
    ck = torch.load(run_dir / "checkpoint.pt", map_location="cpu")
    if drop_discriminator:
        ck["d_opt"]["state"] = {}
    if not ck["d_opt"]["state"]:
        del ck["discriminator"]
    for state in ck["opt"]["state"].values():
        for key in ("exp_avg", "exp_avg_sq"):
            state[key] = state[key].to(torch.bfloat16)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(ck, out_dir / "checkpoint.pt.tmp")
    (out_dir / "checkpoint.pt.tmp").rename(out_dir / "checkpoint.pt")
    for name in RUN_FILES:
        shutil.copyfile(run_dir / name, out_dir / name)
    return out_dir / "checkpoint.pt"


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["share"])
    ap.add_argument("run", help="run folder with checkpoint.pt")
    ap.add_argument("out", help="folder for the committable copy")
    ap.add_argument("--drop-discriminator", action="store_true", help="leave a trained D out too (fresh D on resume)")
    a = ap.parse_args()
    path = share_resume(a.run, a.out, a.drop_discriminator)
    print(f"{path}: {path.stat().st_size / 2 ** 20:.1f} MiB")
