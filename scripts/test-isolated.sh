#!/usr/bin/env bash
# Runs the test suite from a copy of the repository in a fresh temporary folder with nothing
# beside it, as a user's clone would be: a test that reads the workspace's shared folder (or anything else outside
# the repository) fails here. The copy holds the tracked files plus untracked, non-ignored ones;
# node_modules is hard-linked (cp -al) from this checkout, so nothing is downloaded again.
# Arguments are passed to vitest (e.g. a test file).
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/drivekit"
mkdir -p "$dest"
cd "$src"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -C "$dest" -xf -
cp -al "$src/node_modules" "$dest/node_modules"
cd "$dest"
echo "isolated copy: $dest (beside it: $(ls "$tmp" | tr '\n' ' '))"
npm run --silent build
npx vitest run "$@"
