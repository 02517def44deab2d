# Shared helpers for bench/pgo.sh (and examples/demo.sh's timing).
# Source it; it sets nothing up by itself.

bench_say() { printf '%s\n' "$*" >&2; }
bench_die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# bench_step LOG DESC CMD...: runs CMD with its output in LOG; on failure
# names the step, the command and the log's tail, and returns non-zero.
bench_step() {
	local log=$1 desc=$2 rc=0
	shift 2
	mkdir -p "$(dirname "$log")"
	printf '\n$ %s\n' "$*" >>"$log"
	"$@" >>"$log" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		bench_say "bench: FAILED: $desc (exit $rc)"
		bench_say "bench:   command: $*"
		bench_say "bench:   log: $log (last lines below)"
		tail -15 "$log" | sed 's/^/bench:   | /' >&2
	fi
	return $rc
}

bench_need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || bench_die "'$t' is not installed (run scripts/deps.sh, or apt-get install the package that has it)"
	done
}

# bench_fetch_source PKG SRCROOT: downloads PKG's Debian source package with a
# private apt configuration (this machine's sources as deb-src; the system's
# apt state is untouched) and unpacks the upstream tree (--skip-patches) once.
# Prints the unpacked directory.
bench_fetch_source() {
	local pkg=$1 root=$2 apt=$2/apt dsc dir
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc/sources.list.d" "$root/dl"
	dir=$root/$pkg
	if [ -f "$dir/.bench-unpacked" ]; then
		echo "$dir"
		return 0
	fi
	local opts=(-o "Dir::Etc::SourceList=$apt/etc/sources.list"
		-o "Dir::Etc::SourceParts=$apt/etc/sources.list.d"
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
		-o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -q)
	if [ ! -f "$apt/etc/sources.list.d/debian.sources" ]; then
		local sys=/etc/apt/sources.list.d/debian.sources
		: >"$apt/etc/sources.list"
		if [ -f "$sys" ]; then
			sed 's/^Types:.*/Types: deb-src/' "$sys" >"$apt/etc/sources.list.d/debian.sources"
		elif [ -f /etc/apt/sources.list ]; then
			sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$apt/etc/sources.list"
		else
			bench_say "bench: no apt sources found in /etc/apt to derive deb-src entries from"
			return 1
		fi
		if ! apt-get "${opts[@]}" update >"$apt/update.log" 2>&1; then
			bench_say "bench: apt-get update (private deb-src lists) failed; see $apt/update.log"
			tail -5 "$apt/update.log" >&2
			rm -f "$apt/etc/sources.list.d/debian.sources"
			return 1
		fi
	fi
	if ! (cd "$root/dl" && apt-get "${opts[@]}" source --download-only "$pkg") >"$root/dl/$pkg.log" 2>&1; then
		bench_say "bench: apt-get source --download-only $pkg failed; see $root/dl/$pkg.log"
		tail -5 "$root/dl/$pkg.log" >&2
		return 1
	fi
	dsc=$(ls -t "$root/dl/${pkg}_"*.dsc 2>/dev/null | head -1)
	[ -n "$dsc" ] || { bench_say "bench: no .dsc for $pkg in $root/dl"; return 1; }
	rm -rf "$dir"
	if ! dpkg-source --skip-patches -x "$dsc" "$dir" >"$root/dl/$pkg.unpack.log" 2>&1; then
		bench_say "bench: dpkg-source -x $dsc failed; see $root/dl/$pkg.unpack.log"
		return 1
	fi
	touch "$dir/.bench-unpacked"
	echo "$dir"
}

bench_now_ns() { date +%s%N; }

# bench_cpu_us CMD...: runs CMD (a function or program; its stdout is
# discarded) and prints "CPU_US WALL_US": the user + sys time of the processes
# it ran, then the wall time. CPU time is what the comparison uses: on a
# shared machine a process's wall time includes waiting for a core, its CPU
# time does not.
bench_cpu_us() {
	local t0 t1 out
	t0=$(date +%s%N)
	out=$( ("$@" >/dev/null && times) | tail -1) || return 1
	t1=$(date +%s%N)
	# `times` prints the children's "XmY.YYYs XmY.YYYs" (user, sys).
	echo "$out" | awk -v w=$(((t1 - t0) / 1000)) '{
		split($1, u, "m"); split($2, s, "m"); sub("s", "", u[2]); sub("s", "", s[2])
		printf "%d %d\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1e6, w }'
}

# bench_median: the median of the numbers on stdin.
bench_median() {
	sort -g | awk '{ v[NR] = $1 } END { if (!NR) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_callgrind_ir OUTDIR STDOUT CMD...: instructions executed by CMD
# (children included) under callgrind; CMD's output goes to STDOUT. Debug info
# must be stripped from clang-19 binaries first: valgrind 3.19 cannot read
# their DWARF 5.
bench_callgrind_ir() {
	local out=$1 stdout=$2
	shift 2
	mkdir -p "$out"
	rm -f "$out"/callgrind.out.*
	valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$out/callgrind.out.%p" "$@" >"$stdout" 2>"$out/stderr" || {
		bench_say "bench: callgrind run failed: $*; see $out/stderr"
		return 1
	}
	awk '/^summary:/ { s += $2 } END { if (!s) exit 1; print s }' "$out"/callgrind.out.*
}
