# Tcl workload for bench/pgo.sh: tclsh workload.tcl SEED N
# Procedures, lists, dicts, strings, regexp, expr, TclOO and a small
# interpreter written in Tcl, over data generated from SEED (a Park-Miller
# generator, so every run with the same arguments prints the same).
lassign $argv seed n
set state [expr {$seed + 1}]
proc rnd {m} {
	global state
	set state [expr {($state * 16807) % 2147483647}]
	return [expr {$state % $m}]
}
proc word {} {
	set w ""
	for {set i [expr {3 + [rnd 6]}]} {$i > 0} {incr i -1} {
		append w [string index "etaoinshrdlucmfwypvbgkqjxz" [expr {[rnd 26] * [rnd 26] / 26}]]
	}
	return $w
}

# recursion and arithmetic
proc fib {x} { if {$x < 2} { return $x }; expr {[fib [expr {$x - 1}]] + [fib [expr {$x - 2}]]} }
proc sieve {m} {
	set s [lrepeat $m 1]
	for {set i 2} {$i * $i < $m} {incr i} {
		if {[lindex $s $i]} { for {set j [expr {$i * $i}]} {$j < $m} {incr j $i} { lset s $j 0 } }
	}
	set c 0
	foreach v $s { incr c $v }
	return $c
}
puts "fib [fib [expr {18 + $n / 40}]] sieve [sieve [expr {$n * 300}]]"

# words: lists, dicts, sort, string ops
set words {}
for {set i 0} {$i < $n * 200} {incr i} { lappend words [word] }
set freq [dict create]
foreach w $words { dict incr freq $w }
set top [lrange [lsort -stride 2 -index 1 -integer -decreasing [dict get $freq]] 0 19]
puts "words [llength $words] distinct [dict size $freq] top $top"
set sorted [lsort -unique $words]
puts "sorted [llength $sorted] [lindex $sorted 0] [lindex $sorted end]"
set caps 0
foreach w $words {
	set u [string toupper [string range $w 0 1]][string range $w 2 end]
	if {[string match {[A-Z]T*} $u]} { incr caps }
	set r [string reverse $w]
	if {$r eq $w} { incr caps 2 }
}
puts "caps $caps map [string length [string map {e E th TH a {}} [join [lrange $words 0 2000] " "]]]"

# regexp and format over generated log lines
set lines {}
for {set i 0} {$i < $n * 60} {incr i} {
	lappend lines [format "%04d-%02d-%02d %s user=%s bytes=%d status=%d" [expr {2000 + [rnd 25]}] [expr {1 + [rnd 12]}] [expr {1 + [rnd 28]}] [word] [word] [rnd 100000] [lindex {200 200 200 404 500 302} [rnd 6]]]
}
set bytes 0
set st [dict create]
foreach l $lines {
	if {[regexp {user=(\w+) bytes=(\d+) status=(\d+)} $l -> u b s]} {
		incr bytes $b
		dict lappend st $s $u
	}
}
dict for {k v} $st { puts "status $k [llength $v]" }
puts "bytes $bytes"
set joined [join $lines \n]
puts "regsub [regsub -all {\d+} [string range $joined 0 200000] N x] [string length $x]"

# TclOO
oo::class create Account {
	variable balance log
	constructor {b} { set balance $b; set log {} }
	method deposit {x} { incr balance $x; lappend log [list d $x]; return $balance }
	method withdraw {x} { if {$x > $balance} { return -code error "insufficient" }; incr balance -$x; lappend log [list w $x]; return $balance }
	method balance {} { return $balance }
}
set accts {}
for {set i 0} {$i < 50} {incr i} { lappend accts [Account new [rnd 1000]] }
set fail 0
for {set i 0} {$i < $n * 100} {incr i} {
	set a [lindex $accts [rnd 50]]
	if {[rnd 2]} { $a deposit [rnd 100] } elseif {[catch {$a withdraw [rnd 300]}]} { incr fail }
}
set total 0
foreach a $accts { incr total [$a balance] }
puts "accounts total $total failures $fail"

# a stack machine interpreted in Tcl: switch dispatch
proc run {prog steps} {
	set stack {}
	set pc 0
	set len [llength $prog]
	for {set k 0} {$k < $steps} {incr k} {
		set op [lindex $prog $pc]
		set o [lindex $op 0]
		if {($o eq "add" || $o eq "mul") && [llength $stack] < 2} { set o dup }
		if {$o eq "dup" && ![llength $stack]} { set o push; set op {push 1} }
		switch -- $o {
			push { lappend stack [lindex $op 1] }
			add { set b [lindex $stack end]; set stack [lreplace $stack end end]; lset stack end [expr {([lindex $stack end] + $b) % 1000003}] }
			mul { set b [lindex $stack end]; set stack [lreplace $stack end end]; lset stack end [expr {([lindex $stack end] * $b) % 1000003}] }
			dup { lappend stack [lindex $stack end] }
			pop { if {[llength $stack] > 1} { set stack [lreplace $stack end end] } }
			jmp { set pc [expr {[lindex $op 1] - 1}] }
		}
		set pc [expr {($pc + 1) % $len}]
	}
	return [lindex $stack end]
}
set prog {{push 1}}
for {set i 0} {$i < 40} {incr i} { lappend prog [lindex {{push 3} dup add mul {push 7} pop dup} [rnd 7]] }
lappend prog add {jmp 1}
puts "vm [run $prog [expr {$n * 300}]]"
