#!/usr/bin/env bash
# Download, into .whl/, the wheels that scripts/gpu_check.sh needs on a GPU machine that has
# PyTorch and numpy but neither Keras nor Hydra (and no network): Keras and Hydra with the
# dependencies such an image lacks, for its Python (3.12 unless PYTHON_VERSION says otherwise).
# Run it where pip reaches a package index; then carry .whl/ to the GPU machine.
#
#     bash scripts/fetch_gpu_wheels.sh            # then, there: bash scripts/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python_version="${PYTHON_VERSION:-3.12}"
# The versions this repository is tested with here (pyproject.toml allows a range for some).
packages=(keras==3.15.1 namex==0.1.0 optree==0.20.0 hydra-core==1.3.8 omegaconf==2.3.1)
rm -rf .whl && mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$python_version" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl "${packages[@]}"
# Published as source only: built here into a pure-Python wheel, which installs anywhere.
python3 -m pip wheel -q --no-deps -w .whl antlr4-python3-runtime==4.9.3
ls .whl
