#!/usr/bin/env bash
# Executes every examples/*.ipynb in a real tslab kernel, headless, and fails on any error output.
# Needs Debian's jupyter-nbconvert, python3-nbclient and python3-ipykernel (apt-get install ...);
# tslab itself is installed into a temporary folder (npm registry only). Not part of `npm test`:
# test/examples.test.ts runs the same notebook code through tsx on every test run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund tslab@1.0.22 >/dev/null)
"$work/node_modules/.bin/tslab" install --python=/usr/bin/python3 --prefix="$work/jupyter" >/dev/null
export PATH="$work/node_modules/.bin:$PATH" JUPYTER_PATH="$work/jupyter/share/jupyter"
# Notebooks import 'drivekit' like a user's project would: link this checkout as node_modules/drivekit.
mkdir -p "$work/nb/node_modules"
ln -s "$root" "$work/nb/node_modules/drivekit"
(cd "$root" && npm run build >/dev/null)
status=0
for nb in "$root"/examples/*.ipynb; do
  cp "$nb" "$work/nb/"
  name="$(basename "$nb")"
  if (cd "$work/nb" && jupyter nbconvert --to notebook --execute "$name" --output "out-$name" --ExecutePreprocessor.timeout=600 >/dev/null 2>&1) &&
     python3 - "$work/nb/out-$name" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error" or o.get("name") == "stderr"]
sys.exit(1 if errors else 0)
PY
  then echo "ok   $name"; else echo "FAIL $name"; status=1; fi
done
exit $status
