#!/bin/sh
# Runs "$@" with a Node.js >= 22.12 first on PATH.
# The machines this project is built on ship an older Node; rather than fail, we install
# the npm registry's `node@24` package (a plain binary inside a package) into a cache folder
# once and put it first on PATH. With a current Node this is a no-op.
set -eu

node_is_recent() {
  v=$(node -p 'process.versions.node' 2>/dev/null) || return 1
  major=${v%%.*}
  rest=${v#*.}
  minor=${rest%%.*}
  [ "$major" -gt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 12 ]; }
}

if ! node_is_recent; then
  dir="${MEDIAFORGE_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mediaforge/node24}"
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    echo "mediaforge: Node $(node -v 2>/dev/null || echo none) is older than 22.12; installing node@24 into $dir" >&2
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error node@24 >&2
  fi
  PATH="$dir/node_modules/.bin:$PATH"
  export PATH
fi
exec "$@"
