#!/usr/bin/env bash
# Installs the Debian packages the project needs, if any is missing: Chromium (demo, tests,
# dataset tools), ffmpeg (fake-camera clips), and the Python trainer's torch/onnx/numpy/PIL/pytest.
# Needs root (as on the project's machines); prints what to install otherwise.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
for module in torch:python3-torch onnx:python3-onnx numpy:python3-numpy PIL:python3-pil pytest:python3-pytest; do
  /usr/bin/python3 -c "import ${module%%:*}" 2>/dev/null || missing+=("${module##*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
