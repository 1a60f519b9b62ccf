#!/usr/bin/env bash
# `npm run notebooks`: executes every examples/*.ipynb (or the ones named as arguments) in place in
# a real tslab kernel, headless, through Jupyter's nbconvert, so the committed copies carry their
# outputs (pictures included); fails on any cell error or stderr output.
#
# Needs Debian's jupyter-nbconvert and python3-ipykernel (`.ci/run` installs them when missing:
# apt-get install -y --no-install-recommends jupyter-nbconvert python3-nbconvert jupyter-client
# python3-ipykernel) and the tslab devDependency, whose kernel spec is installed into a temporary
# Jupyter path (nothing is downloaded, nothing outside the repository changes). Notebooks import
# 'drivekit' as a user's project does: examples/node_modules/drivekit links to this checkout
# while they run (tslab's type checker resolves packages through node_modules), and the package is
# built first (`--no-build` skips that when dist/ is fresh, as in CI after `npm test`). A cell may
# run NOTEBOOK_CELL_TIMEOUT seconds (default 1200).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build=1
notebooks=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *) notebooks+=("$a") ;;
  esac
done
[ ${#notebooks[@]} -gt 0 ] || notebooks=(examples/*.ipynb)
python=/usr/bin/python3
if ! "$python" -c 'import nbconvert, nbclient, ipykernel' 2>/dev/null || ! command -v jupyter >/dev/null; then
  echo "run-notebooks: Jupyter is missing: apt-get install -y --no-install-recommends jupyter-nbconvert python3-nbconvert jupyter-client python3-ipykernel" >&2
  exit 2
fi
work="$(mktemp -d)"
link="$root/examples/node_modules/drivekit"
made_link=0
cleanup() {
  rm -rf "$work"
  if [ "$made_link" = 1 ]; then rm -f "$link"; rmdir "$root/examples/node_modules" 2>/dev/null || true; fi
}
trap cleanup EXIT
"$root/node_modules/.bin/tslab" install --python="$python" --binary="$root/node_modules/.bin/tslab" --prefix="$work/jupyter" >/dev/null
export JUPYTER_PATH="$work/jupyter/share/jupyter"
if [ ! -e "$link" ]; then
  mkdir -p "$root/examples/node_modules"
  ln -s ../.. "$link"
  made_link=1
fi
[ "$build" = 0 ] || npm run --silent build >/dev/null
status=0
for nb in "${notebooks[@]}"; do
  name="$(basename "$nb")"
  t0=$SECONDS
  if (cd "$(dirname "$nb")" && jupyter nbconvert --to notebook --execute --inplace "$name" \
        --ExecutePreprocessor.kernel_name=tslab --ExecutePreprocessor.timeout="${NOTEBOOK_CELL_TIMEOUT:-1200}" --ExecutePreprocessor.startup_timeout=300 \
        --log-level=WARN >"$work/log" 2>&1) &&
     "$python" - "$nb" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
bad = [(i, o.get("text") or o.get("evalue")) for i, c in enumerate(nb["cells"]) for o in c.get("outputs", [])
       if o.get("output_type") == "error" or o.get("name") == "stderr"]
for i, text in bad:
    print(f"cell {i}: {''.join(text) if isinstance(text, list) else text}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
  then echo "ok   $nb ($((SECONDS - t0)) s)"
  else echo "FAIL $nb ($((SECONDS - t0)) s)"; tail -n 30 "$work/log" >&2; status=1
  fi
done
exit $status
