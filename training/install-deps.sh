#!/usr/bin/env bash
# Python dependencies of the trainer, from Debian (no Python package index is reachable here):
# python3-torch/-onnx/-numpy/-pil/-pytest and OpenBLAS (without it Debian's torch runs its matrix
# products on the reference BLAS, ~10x slower). One list, kept in scripts/install-system-deps.sh.
# The ONNX parity check uses onnxruntime-web from the repo's node_modules (npm install).
set -euo pipefail
exec bash "$(dirname "$0")/../scripts/install-system-deps.sh" --trainer
