#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the training need.
# Idempotent; skips apt when everything is already present. Run as root (CI is).
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config clang-14 libclang-rt-14-dev
      protobuf-c-compiler libprotobuf-c-dev libonnx-dev libonnx-testdata libflac-dev
      xz-utils python3 poppler-utils librsvg2-bin)  # pdftoppm, rsvg-convert: report rendering tests
if [ "${AIECG_SETUP_TRAINING:-0}" = 1 ]; then
  pkgs+=(python3-torch python3-onnx python3-numpy python3-scipy libopenblas0-pthread)
fi
if [ "${AIECG_SETUP_CROSS:-0}" = 1 ]; then
  pkgs+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
