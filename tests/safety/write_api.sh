#!/usr/bin/env bash
# Runs tests/safety/write_api.c on thin, universal, unsigned and Go-linked
# fixtures (see that file for what it checks).
. "$MP_SRC/tests/lib.sh"
need_fixtures
mp_workdir
"$MP_WRITE_API" "$MP_WORK" "$MP_FIXTURES/hello-arm64-headerpad" "$MP_FIXTURES/hello-universal" \
  "$MP_FIXTURES/hello-arm64-unsigned" "$MP_FIXTURES/hello-go-x86_64" "$MP_FIXTURES/hello-x86_64-signed"
