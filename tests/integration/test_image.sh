#!/usr/bin/env bash
# Container image: builds it with `make image` and runs the agent from it
# (see tests/image/test_image.sh). Prints "ok"/"not ok" lines and
# "N passed, M failed".
exec bash "$(dirname "$0")/../image/test_image.sh"
