#!/usr/bin/env bash
# meson test fuzz-short: every harness once, reproducibly -- fixed seed
# (MP_FUZZ_SEED, default 1) and a fixed number of runs per harness (about 50 s
# each; see run-fuzzers.sh), from a corpus that starts empty each time.
# Exit 77 (skip) when clang, its fuzzer runtime or the fixtures are missing.
# The random, time-bounded exploration is the longer run:
#   tests/fuzz/run-fuzzers.sh 3600
exec bash "$MP_SRC/tests/fuzz/run-fuzzers.sh" --ci "$MP_FUZZ_OUT"
