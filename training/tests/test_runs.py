"""Run-folder options: what a resumed run takes from the command line."""
import argparse
import json

from runs import explicit_options, open_run


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run")
    ap.add_argument("--resume")
    ap.add_argument("--runs-dir")
    ap.add_argument("--compact", default="")
    ap.add_argument("--lr", type=float, default=2e-3)
    return ap


def test_explicit_options_include_values_equal_to_the_default():
    assert explicit_options(parser(), ["--resume", "r", "--compact", ""]) == {"resume", "compact"}
    assert explicit_options(parser(), ["--run", "x"]) == {"run"}


def test_resume_keeps_saved_options_unless_given_again(tmp_path):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    (run_dir / "checkpoint.pt").write_bytes(b"")
    (run_dir / "options.json").write_text(json.dumps({"compact": "models/x.pt", "lr": 1e-3, "run": "r"}))
    argv = ["--resume", str(run_dir), "--compact", ""]
    _, options = open_run(parser().parse_args(argv), explicit_options(parser(), argv))
    assert options.compact == "" and options.lr == 1e-3
