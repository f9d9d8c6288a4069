"""Run folders (NVlabs-style): `runs/NAME/` holds options.json, logs, samples and checkpoint.pt."""
import argparse
import json
import sys
from pathlib import Path


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
