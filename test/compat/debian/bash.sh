# functions, return codes, locals, recursion
f() { local x=$1; shift; echo "f:$x:$#:$*"; return 3; }
f a b c || echo "rc=$?"
fact() { (( $1 <= 1 )) && { echo 1; return; }; echo $(( $1 * $(fact $(( $1 - 1 ))) )); }
echo "fact 10 = $(fact 10)"
# indexed and associative arrays
arr=(zeta alpha "with space"); arr+=(omega); unset 'arr[1]'
echo "n=${#arr[@]} idx=${!arr[*]} last=${arr[-1]} third=${arr[2]}"
declare -A m=([one]=1 [two]=2 [three]=3); m[four]=4
for k in $(printf '%s\n' "${!m[@]}" | sort); do printf '%s=%s ' "$k" "${m[$k]}"; done; echo
mapfile -t lines < <(printf 'l1\nl2\nl3\n'); echo "mapfile ${#lines[@]} ${lines[1]}"
printf -v padded '%08.3f' 3.14159; echo "printf -v $padded"
# here-docs and here-strings
n=6
cat <<EOF
heredoc $((n * 7)) ${arr[0]} $(echo nested)
EOF
cat <<'EOF'
literal $HOME $(no)
EOF
tr a-z A-Z <<< "here string"
# parameter expansion
s="Hello, World"; echo "${s,,}|${s^^}|${s/World/There}|${s:7}|${#s}|${s%,*}|${s#*, }"
# subshells: variables, cwd, exit status
x=outer; (x=inner; cd /; echo "sub x=$x pwd=$PWD"); echo "x=$x same_pwd=$([[ $PWD == "$HOME" ]] && echo yes)"
(exit 7) || echo "subshell rc=$?"
echo "cmdsub $(echo a $(echo b $(echo c)))"
# process substitution
diff <(seq 1 5) <(seq 1 6) || echo "diff rc=$?"
paste <(seq 3) <(seq 4 6) <(printf 'a\nb\nc\n')
while read -r a b; do echo "read $b $a"; done < <(printf '1 one\n2 two\n')
echo "tee" | tee >(tr a-z A-Z > upper.txt) > /dev/null; sleep 0.2; cat upper.txt
# traps
trap 'echo "got USR1"' USR1
kill -USR1 $$
echo after-usr1
trap 'echo "ERR at $LINENO"' ERR
set +e; false; set -e
trap - ERR
( trap 'echo "sub got TERM"; exit 4' TERM; kill -TERM $BASHPID; echo not-reached ) || echo "sub rc=$?"
# background jobs and wait. A job is signalled only once it runs its program: until the exec, the
# forked shell still has the parent's handlers (a signal then would race with bash itself).
execd() { until [[ $(readlink /proc/$1/exe 2>/dev/null) == "$2" ]]; do sleep 0.01; done; }
pids=()
for i in 1 2 3 4; do ( sleep 0.$i; echo "job $i" > job.$i; exit $i ) & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" && rc=0 || rc=$?; echo "wait rc=$rc"; done
cat job.1 job.2 job.3 job.4
sleep 0.1 & sleep 0.2 & wait; echo "wait all rc=$?"
sleep 5 & victim=$!; execd $victim /usr/bin/sleep; kill -TERM $victim; wait $victim || echo "killed rc=$?"
sleep 0.1 & jobs; wait
# coprocess
coproc BC { while read -r l; do echo "co:$((l * 2))"; done; }
echo 21 >&"${BC[1]}"; read -r reply <&"${BC[0]}"; echo "$reply"
cpid=$BC_PID; eval "exec ${BC[1]}>&-"; wait "$cpid" 2>/dev/null || true; echo "coproc done"
# pipelines, PIPESTATUS, pipefail
set +o pipefail; false | true; echo "pipestatus ${PIPESTATUS[*]}"; set -o pipefail
seq 1 100000 | grep -c 7
# arithmetic, loops, case, regex
sum=0; for ((i = 0; i < 1000; i++)); do sum=$(( sum + i * i )); done; echo "sum=$sum"
for w in apple banana cherry; do case $w in a*) echo "A:$w";; *an*) echo "AN:$w";; *) echo "other:$w";; esac; done
[[ "key=value" =~ ^([a-z]+)=(.*)$ ]] && echo "regex ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
# eval, indirect expansion, getopts
name=s; echo "indirect ${!name}"; eval 'evaled=$((2**10))'; echo "eval $evaled"
set -- -a -b val rest; while getopts ab: o; do echo "opt $o ${OPTARG:-}"; done
# the EXIT trap runs last, with the script's status
trap 'echo "trap EXIT rc=$?"' EXIT
(exit 0)
# more job control: wait -n, kill -STOP/-CONT, kill -0, disown, SIGCHLD trap, read -t
sleep 0.3 & a=$!; ( exit 9 ) & b=$!; wait -n && rc=0 || rc=$?; echo "wait -n rc=$rc"; wait $a
sleep 30 & s=$!; execd $s /usr/bin/sleep; kill -STOP $s; kill -0 $s && echo "stopped alive"; kill -CONT $s; kill -TERM $s; wait $s || echo "stop/cont/term rc=$?"
sleep 0.1 & d=$!; disown; echo "disowned jobs: $(jobs | wc -l)"
while kill -0 $d 2>/dev/null; do sleep 0.05; done
# A CHLD trap around `wait $!` races inside bash 5.2 itself, natively too ("wait_for: No record of
# process", now and then a heap abort: 8 of 20 runs of 300 `true & wait $!` here), so the trap fires
# while the shell waits for a foreground command instead
n=0; trap 'n=$((n + 1))' CHLD; for i in 1 2 3; do (exit 0) & sleep 0.2; done; trap - CHLD; echo "sigchld traps: $(( n >= 3 ))"
read -t 0.2 -r line < <(sleep 1; echo late) || echo "read -t rc=$?"
set -m; sleep 30 & jp=$!; execd $jp /usr/bin/sleep; [[ $(ps -o pgid= -p $jp 2>/dev/null || cat /proc/$jp/stat | cut -d' ' -f5) -eq $jp ]] && echo "set -m: own group"; kill %1; wait $jp || echo "set -m kill rc=$?"; set +m
# redirections, fds, /dev/fd, noclobber
exec 3> fd3.txt; echo "to fd3" >&3; exec 3>&-; cat fd3.txt
exec {fd}< fd3.txt; read -r l <&$fd; exec {fd}<&-; echo "named fd read: $l"
cat /dev/fd/0 <<< "via /dev/fd/0"; echo "pipe link: $(echo | readlink /proc/self/fd/0 | cut -c1-6)"
set -C; echo one > nc.txt; (echo two > nc.txt) 2>/dev/null || echo "noclobber rc=$?"; echo three >| nc.txt; set +C; cat nc.txt
{ echo grouped; echo out; } > grp.txt; echo "$(< grp.txt)" | tr '\n' ' '; echo
echo err-msg 2>&1 >/dev/null | cat; { ls /nonexistent 2>&1 >/dev/null || true; } | sed 's/.*cannot access/cannot access/'
ulimit -n 64; echo "ulimit -n $(ulimit -n)"; ( ulimit -t 100; ulimit -t ); ulimit -c 0; echo "ulimit -c $(ulimit -c)"
printf '%s\n' {a..e} {1..3} {01..03}; echo {x,y}{1,2}
shopt -s extglob nullglob
touch a.c b.c c.h; echo *.@(c|h) +(a|b).c; echo none*; shopt -u nullglob
time_out=$( { time -p sleep 0.1; } 2>&1 | awk '/real/ {print ($2 >= 0.1)}'); echo "time real ok: $time_out"
