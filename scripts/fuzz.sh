#!/usr/bin/env bash
# Runs every native Go fuzz target in the repository (func FuzzX in a
# *_test.go) for FUZZTIME each, one after the other; stops at the first
# failure, whose input go test saves under the package's testdata/fuzz.
# Usage: scripts/fuzz.sh [FUZZTIME]   (default 30s; CI runs a short pass)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-30s}"
GO="${GO:-go}"
targets=$(grep -rHn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | sort)
[ -n "$targets" ] || { echo "fuzz: no fuzz targets found" >&2; exit 1; }
while IFS=: read -r file _ decl; do
	name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$decl")
	pkg="./$(dirname "${file#./}")"
	echo "== fuzz $pkg $name for $fuzztime"
	"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
done <<<"$targets"
