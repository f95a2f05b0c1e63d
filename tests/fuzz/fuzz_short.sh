#!/usr/bin/env bash
# meson test fuzz-short: every harness for MP_FUZZ_SECONDS (default 60) s.
# Exit 77 (skip) when clang, its fuzzer runtime or the fixtures are missing.
exec bash "$MP_SRC/tests/fuzz/run-fuzzers.sh" "${MP_FUZZ_SECONDS:-60}" "$MP_FUZZ_OUT"
