#!/usr/bin/env bash
# Installs the Debian packages the project needs, if any is missing: Chromium (demo, tests,
# dataset tools), ffmpeg (fake-camera clips), and the Python trainer's torch/onnx/numpy/PIL/pytest,
# with OpenBLAS: Debian's torch links the reference BLAS (BLAS_INFO=generic) unless another BLAS is
# installed, and its matrix products (the fine-tune losses' Gram and self-similarity maps) then run
# ~10x slower: a pack's fine-tuning step 1.07 s -> 0.62 s with OpenBLAS (docs/benchmarks.md).
# Needs root (as on the project's machines); prints what to install otherwise.
# --trainer: only the Python trainer's packages (training/install-deps.sh).
set -euo pipefail
missing=()
if [ "${1:-}" != "--trainer" ]; then
  command -v chromium >/dev/null || missing+=(chromium)
  command -v ffmpeg >/dev/null || missing+=(ffmpeg)
fi
for module in torch:python3-torch onnx:python3-onnx numpy:python3-numpy PIL:python3-pil pytest:python3-pytest; do
  /usr/bin/python3 -c "import ${module%%:*}" 2>/dev/null || missing+=("${module##*:}")
done
# the OpenMP build, as torch itself uses OpenMP (the pthread build would oversubscribe the cores)
if command -v dpkg-query >/dev/null && ! dpkg-query -W -f='${Status}' libopenblas0-openmp 2>/dev/null | grep -q 'ok installed'; then
  missing+=(libopenblas0-openmp)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
