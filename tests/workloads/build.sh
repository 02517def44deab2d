# Sourced by tests/cmd/t10xx: builds the libcpgo test workloads into the
# current directory with clang-19 -O2 -g and frame pointers.
#   burn, libburn.so   two threads burning 75/25 of the CPU (see burn.c)
#   api                links libcpgo.a and uses include/cpgo.h (see api.c)
WORKLOADS=${CPGO_ROOT:?}/tests/workloads
build_workloads() {
	clang-19 -O2 -g -fno-omit-frame-pointer -fPIC -shared -o libburn.so "$WORKLOADS/libburn.c" &&
	clang-19 -O2 -g -fno-omit-frame-pointer -o burn "$WORKLOADS/burn.c" -L. -lburn \
		-Wl,-rpath,'$ORIGIN' -lpthread
}
build_api_workload() {
	clang-19 -O2 -g -fno-omit-frame-pointer -I"$CPGO_ROOT/include" -o api "$WORKLOADS/api.c" \
		"$CPGO_BUILD/libcpgo.a" $(cat "$CPGO_BUILD/link-libs")
}
# The source line of a function's name: its DWARF start line.
source_line() { # FILE FUNCTION
	grep -n "[ *]$2(" "$1" | grep -v ';' | head -1 | cut -d: -f1
}
# flat or cum percentage of a function in `go tool pprof -top` output.
pprof_pct() { # PROFILE flat|cum FUNCTION
	go tool pprof -top -nodecount=200 "$1" 2>/dev/null |
		awk -v f="$3" -v col="$2" '$6 == f || ($6 " " $7) == f {
			v = (col == "flat") ? $2 : $5; sub("%", "", v); print v; exit }'
}
# The value of a cpgo metadata key (lib/pprof/meta.h) in `go tool pprof -raw` output.
pprof_meta() { # RAW-FILE KEY
	sed -n "s/^Comment: cpgo\.$2=//p" "$1" | head -1
}
