#!/usr/bin/env bash
# Python dependencies of the trainer, from Debian (no Python package index is reachable here).
# The ONNX parity check uses onnxruntime-web from the repo's node_modules (npm install).
set -euo pipefail
# libopenblas0-openmp: without another BLAS, Debian's torch runs its matrix products on the
# reference BLAS, ~10x slower (scripts/install-system-deps.sh says more)
if /usr/bin/python3 -c "import torch, onnx, numpy, PIL, pytest" 2>/dev/null \
   && dpkg-query -W -f='${Status}' libopenblas0-openmp 2>/dev/null | grep -q 'ok installed'; then
  echo "training deps present"; exit 0
fi
apt-get update
apt-get install -y --no-install-recommends python3-torch python3-onnx python3-numpy python3-pil python3-pytest libopenblas0-openmp
