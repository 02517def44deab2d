#!/usr/bin/env bash
# Holds every #include of lib/, runtime/ and builtin/ to the layer order:
#   util <- pprof <- elf <- sprof <- llvm | gcc | link <- cc <- builtin
# A file may include its own layer and the layers below it; llvm and gcc are
# siblings and never include each other; runtime/ uses util, pprof and elf
# only. Fails naming the file, the line and the include that points up or
# sideways. Includes of another layer say their layer ("pprof/profile.h").
# Usage: check-layers.sh [TREE] (default: this checkout).
set -u
cd "${1:-$(dirname "$0")/..}"
rank() { # layer -> number; siblings share a rank and may not include each other
	case $1 in
	util) echo 1 ;; pprof) echo 2 ;; elf) echo 3 ;; sprof) echo 4 ;; llvm | gcc | link) echo 5 ;; cc) echo 6 ;;
	*) echo 0 ;;
	esac
}
bad=0
complain() { echo "$1: include of \"$2\" $3"; bad=$((bad + 1)); }
while IFS= read -r hit; do
	file=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}; inc=${rest#*:}
	inc=${inc#*\"}; inc=${inc%%\"*}
	where="$file:$line"
	dir=$(dirname "$file")
	case $inc in
	*/*) target=${inc%%/*} ;;
	*) # A bare name is a file of the same folder; it must be there.
		if [ ! -e "$dir/$inc" ] && [ ! -e "include/$inc" ]; then
			case $inc in
			*.pb-c.h) ;;
			*) complain "$where" "$inc" "names no file of $dir/ (say its layer: \"util/$inc\", ...)" ;;
			esac
		fi
		continue ;;
	esac
	case $file in
	lib/*)
		from=$(echo "$file" | cut -d/ -f2)
		fr=$(rank "$from"); tr=$(rank "$target")
		if [ "$tr" = 0 ]; then
			complain "$where" "$inc" "names no layer of lib/"
		elif [ "$from" != "$target" ] && [ "$tr" -ge "$fr" ]; then
			complain "$where" "$inc" "points up or sideways: lib/$from may use only layers below it (util <- pprof <- elf <- llvm|gcc|link <- cc)"
		fi ;;
	runtime/*)
		case $target in
		util | pprof | elf) ;;
		*) complain "$where" "$inc" "is not for the runtime: it may use util, pprof and elf only" ;;
		esac ;;
	builtin/* | cpgo.c)
		[ "$(rank "$target")" = 0 ] && [ "$target" != builtin ] &&
			complain "$where" "$inc" "names no layer of lib/" ;;
	esac
done < <(grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' \
	$(find lib runtime builtin cpgo.c -name '*.[ch]' | sort))
if [ "$bad" -gt 0 ]; then
	echo "check-layers: $bad include(s) break the layer order"
	exit 1
fi
echo "check-layers: ok"
