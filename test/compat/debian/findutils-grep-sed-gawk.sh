mkdir -p t/a/b t/c t/d
seq 1 2000 > t/a/big.txt; echo small > t/a/b/small.txt; echo 'foo123' > t/c/one.log
printf 'bar42\nbaz\nfoo7\nFOO8\n' > t/c/two.log; : > t/d/empty
touch -d '2001-01-01' t/a/big.txt t/a/b/small.txt t/c/one.log t/d/empty
touch -d '2010-01-01' ref; touch -d '2020-01-01' t/c/two.log
find t | sort
find t -type f -newer ref | sort
find t -type f -size +1k; find t -type f -size -1 | sort; find t -empty | sort
find t -name '*.log' -exec wc -l {} + | sort
find t -name '*.txt' -exec sh -c 'echo "$(basename "$1"): $(wc -c < "$1")"' _ {} \; | sort
find t -maxdepth 1 -type d | sort; find t -path '*/b/*' -print; find t -type f -perm -u=r | wc -l
find t -mindepth 2 -type f -printf '%P %s %m\n' | sort
find t -name 'two*' -delete; ls t/c
seq 1 12 | xargs -P 4 -n 1 sh -c 'echo $(( $1 * $1 )) > sq.$1' _; cat sq.* | sort -n | tr '\n' ' '; echo
printf 'a b\nc d\n' | xargs -n1 echo | tr '\n' ','; echo
find t -type f -print0 | xargs -0 -P 2 -I{} sh -c 'wc -c < "{}"' | sort -n | tr '\n' ' '; echo
grep -E '^(foo|bar)[0-9]+$' t/c/one.log && grep -Ec 'o+' t/c/one.log
grep -r foo t | sort; grep -rl small t; grep -rn --include='*.log' -i foo t | sort
grep -v -c 1 t/a/big.txt; grep -w -o '12[0-9]' t/a/big.txt | tail -2; grep -q nothing t/a/big.txt || echo "grep rc=$?"
grep -E -o '[0-9]{4}' t/a/big.txt | sed -n 1,3p | tr '\n' ' '; echo; grep -F -x 1999 t/a/big.txt
printf 'one\ntwo old\nthree old old\nfour\n' > s.txt
sed -i 's/old/new/g; 1d' s.txt; cat s.txt
sed -i.bak -e '/four/i\inserted' -e '$a\appended' s.txt; cat s.txt; cmp -s s.txt s.txt.bak || echo "backup differs"
sed -n '/two/,/three/p' s.txt; sed -E 's/([a-z]+) ([a-z]+)/\2 \1/' s.txt | sed -n 1,2p; seq 10 | sed -n '0~3p' | tr '\n' ' '; echo
printf 'k=v\n' | sed 'y/kv/KV/'
cat > data.txt <<'EOF'
alice 30 london
bob 25 paris
carol 35 london
dave 40 berlin
erin 28 paris
EOF
gawk '{ city[$3] += $2; n[$3]++ } END { PROCINFO["sorted_in"] = "@ind_str_asc"; for (c in city) printf "%-8s total=%4d avg=%6.2f n=%d\n", c, city[c], city[c] / n[c], n[c] }' data.txt
gawk 'BEGIN { split("c b a", parts); n = asort(parts); for (i = 1; i <= n; i++) printf "%s%s", parts[i], (i < n ? "-" : "\n") }'
gawk -F' ' 'NR % 2 == 1 { gsub(/o/, "0", $1); print NR, NF, toupper($1), length($0) }' data.txt
gawk 'BEGIN { printf "%5.1f|%-5s|%05d|%x|%c|%e\n", 3.14159, "ab", 42, 255, 65, 12345.678; print substr("abcdef", 2, 3), index("abc", "c"), sprintf("%3d", 7) }'
gawk 'BEGIN { while (("seq 3" | getline l) > 0) s += l; close("seq 3"); print "getline sum", s; print "x" > "awkout.txt"; close("awkout.txt"); getline y < "awkout.txt"; print "read back", y }'
gawk 'BEGIN { srand(1); r = rand(); print (r >= 0 && r < 1) }'
# more find: -newermt, -mmin, -perm, -user, -L with a loop, -regex, -prune
mkdir -p L/x; ln -s .. L/x/up; touch -d '2015-05-05' t/a/big.txt
find t -newermt '2012-01-01' -type f | sort; find t -type f ! -newermt '2012-01-01' | wc -l
find t -mmin -60 -type f | sort; find t -perm 644 -type f | wc -l; find t -user root -type f | wc -l
{ find -L L 2>&1 || echo "find -L rc=$?"; } | sed 's/.*File system loop.*/loop detected/' | sort
find t -regextype posix-extended -regex '.*/[a-z]+\.(txt|log)' | sort; find t -path t/a -prune -o -type f -print | sort
find t -type f -printf '%f\t%d\t%y\n' | sort
# grep over a big file (mmap-ed or read), context, recursive with excludes
seq 1 300000 > huge.txt; grep -c '99' huge.txt; grep -n -A1 -B1 '^150000$' huge.txt; grep -r --exclude-dir=a -l 'o' t | sort
grep -P '^\d{3}(?=7)' -c huge.txt; grep -f <(printf '12345\n54321\n') -x huge.txt; grep -e 1 -e 2 -c huge.txt
LC_ALL=C.UTF-8 grep -i 'ß' <<< 'STRASSE straße' || echo "utf8 grep rc=$?"
# sed: -i over a symlink, -z, w files, hold space
echo target > tgt; ln -s tgt lnk; sed -i --follow-symlinks 's/target/changed/' lnk; cat tgt; [[ -L lnk ]] && echo "still a link"
printf 'a\nb\nc\n' | sed -n 'h;n;G;p'; printf 'x\0y\0' | sed -z 's/^/>/' | tr '\0' '\n'; seq 5 | sed -n '2w w.out'; cat w.out
seq 3 | sed 'e echo pre'; printf 'a.b.c\n' | sed 's/\./\n/2'
# gawk: big aggregation, two-way pipes, time functions, arrays of arrays
gawk '{ s += $1; c[$1 % 10]++ } END { printf "%d %d %d\n", s, NR, c[3] }' huge.txt
gawk 'BEGIN { cmd = "sort -n"; print 3 |& cmd; print 1 |& cmd; print 2 |& cmd; close(cmd, "to"); while ((cmd |& getline l) > 0) printf "%s ", l; print "" }'
gawk 'BEGIN { print strftime("%F %T", 86400 * 365, 1), mktime("2000 01 01 00 00 00") > 0; a["x"]["y"] = 1; for (k in a) for (j in a[k]) print k, j, a[k][j] }'
gawk 'BEGIN { printf "%s|%10.4f|%-3d|%i\n", sprintf("%c%c", 72, 105), atan2(0, -1), 5, 3.9; print length("héllo"), toupper("abc"), 2 ** 10, int(-3.7), 17 % 5 }'
gawk -v OFS=, '{ $1 = $1; print }' <<< 'a b   c'; gawk 'BEGINFILE { n++ } END { print n " files" }' data.txt s.txt
