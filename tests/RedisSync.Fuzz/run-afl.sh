#!/usr/bin/env bash
# Runs one fuzz target under AFL++ for a given time: builds RedisSync.Fuzz (Release), instruments the
# engine's dll with SharpFuzz, runs afl-fuzz from corpus/<target>, and prints what fuzzer_stats says.
# usage: tests/RedisSync.Fuzz/run-afl.sh <rdb|resp|command|endpoint|settings> <seconds>
# Needs afl-fuzz (Debian's afl++) and the sharpfuzz tool (dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0).
# Findings go to tests/RedisSync.Fuzz/findings/<target>/ (not committed): copy a crash or hang input
# to regressions/<target>/, fix the engine, and FuzzReplayTests replays it from then on.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:?usage: run-afl.sh <target> <seconds>}"
seconds="${2:?usage: run-afl.sh <target> <seconds>}"
case "$target" in rdb|resp|command|endpoint|settings) ;; *) echo "unknown target '$target'" >&2; exit 2 ;; esac
[ -d "$here/corpus/$target" ] || { echo "no corpus at $here/corpus/$target" >&2; exit 2; }
export PATH="$PATH:$HOME/.dotnet/tools"
command -v afl-fuzz >/dev/null || { echo "afl-fuzz is missing (apt-get install afl++)" >&2; exit 2; }
command -v sharpfuzz >/dev/null || { echo "sharpfuzz is missing (dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0)" >&2; exit 2; }

out="$here/bin/afl"
rm -rf "$out"
dotnet build "$here/RedisSync.Fuzz.csproj" -c Release -o "$out" -nologo -v quiet
sharpfuzz "$out/RedisSync.Engine.dll"

findings="$here/findings/$target"
rm -rf "$findings"
mkdir -p "$findings"
# dotnet itself is not instrumented (SharpFuzz instruments the engine's IL), hence AFL_SKIP_BIN_CHECK;
# one afl-fuzz process is one core. -t: a time bound per input in ms (a hang past it is kept as one).
AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 \
  afl-fuzz -i "$here/corpus/$target" -o "$findings" -t 5000 -m none -V "$seconds" \
  -- dotnet "$out/RedisSync.Fuzz.dll" "$target" > "$findings/afl.log" 2>&1 || { tail -30 "$findings/afl.log" >&2; exit 1; }

stats="$findings/default/fuzzer_stats"
[ -f "$stats" ] || { echo "no fuzzer_stats; see $findings/afl.log" >&2; exit 1; }
get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
echo "target=$target seconds=$(get run_time) execs=$(get execs_done) execs_per_sec=$(get execs_per_sec) paths=$(get corpus_count) crashes=$(get saved_crashes) hangs=$(get saved_hangs)"
crashes=$(find "$findings/default/crashes" "$findings/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
[ "$crashes" -eq 0 ] || echo "inputs to look at: $findings/default/crashes and $findings/default/hangs"
