#!/usr/bin/env bash
# Rebuilds templates/static/editor.js from src/editor.js with the pinned packages of
# package-lock.json. The output is checked in: building the Rust project needs no Node.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
