seq 1 20 | sort -rn | head -3 | tr '\n' ' '; echo
printf 'b\na\nb\nc\na\nb\n' | sort | uniq -c
printf 'b\na\nb\nc\na\nb\n' | sort -u | tr '\n' ','; echo
printf '3 x\n1 z\n2 y\n10 w\n' | sort -k1,1n | cut -d' ' -f2 | tr -d '\n'; echo
echo 'a:b:c:d:e' | cut -d: -f2,4-
echo 'abcdefgh' | cut -c2-4
echo 'Hello World' | tr 'a-z' 'A-Z' | tr -s 'L' | tr -d 'O'
seq 100 | tail -n 3 | tr '\n' ' '; seq 100 | head -n -97 | tr '\n' ' '; echo
seq 1000 | wc -l; printf 'one two\nthree\n' | wc -w -c
seq 0 5 50 | tr '\n' ' '; echo; seq -w 8 11 | tr '\n' ' '; echo; seq -s+ 1 5
date -u -d '2024-02-29 12:34:56' '+%F %T %s %A %j'
date -u -d '@86400' '+%F %T'; date -u -d '2024-01-31 +1 month' +%F; date -u -d 'next monday' +%A
d1=$(date +%s); d2=$(date -d 'now' +%s); echo "date consistent: $(( d2 - d1 < 5 ))"
# files with known times and modes
printf 'hello\n' > f1; head -c 5000 /dev/zero > zeros
touch -d '2020-01-02 03:04:05' f1 zeros
stat -c '%n %s %a %F %U %G %Y %h' f1 zeros
stat -c '%x' f1
mkdir -p dir/sub; printf abc > dir/sub/a; printf defgh > dir/b
du -sb dir; du -ab dir | sort -k2; du --apparent-size -s -k dir
df -P . | awk 'NR==2 {print "df ok", ($2 > 0), $6}'
df --output=target /tmp | tail -1
touch -d '2021-06-07 08:09:10' dir/b dir/sub/a
ls -l --time-style=+%F_%T f1 zeros | cut -d' ' -f1,3-
ls -1 dir; ls -R dir; ls -la --time-style=+%F dir/sub | tail -n +4 | cut -d' ' -f1,3-
# cp -a keeps modes, times, symlinks
chmod 640 dir/b; ln -s b dir/link; cp -a dir copy
stat -c '%n %a %s %Y %F' copy/b copy/sub/a; stat -c '%n %F %s' copy/link
readlink copy/link; cat copy/link; echo
cmp dir/b copy/b && echo "cp same"
# mv, ln, chmod, touch
mv copy/b copy/moved; ls copy | tr '\n' ' '; echo
ln -s ../f1 copy/sym; ln f1 hard; stat -c '%h' f1 hard; readlink -f copy/sym | sed "s|$HOME|HOME|"
[[ f1 -ef hard ]] && echo "hard same"
chmod u=rwx,g=rx,o= f1; stat -c '%A %a' f1; chmod -R go-rwx dir; stat -c '%a %n' dir dir/sub dir/sub/a
umask 027; touch newf; mkdir newd; stat -c '%a %n' newf newd; umask 022
touch -d '2030-12-31 23:59:59' f1; stat -c '%Y' f1; touch -r f1 zeros; stat -c '%Y' zeros
touch -m -d @1000000000 f1; date -u -r f1 +%F
# misc
basename /a/b/c.txt .txt; dirname /a/b/c.txt; realpath -m /x/../y/./z
printf '%s\n' c a b | sort -r | nl -ba | tr -s ' \t' ' '
echo "hello world" | md5sum; echo "hello world" | sha256sum
printf 'x\ty\n' | expand -t4 | od -c | sed -n 1,2p
(yes abc || true) | head -3; echo 12345 | rev; echo 'a b c' | fold -w2
split -l 3 <(seq 10) part.; ls part.* | tr '\n' ' '; echo; cat part.ad
printf '1\n2\n' > A; printf '1 a\n2 b\n' > B; join A B; comm -12 <(seq 5) <(seq 3 8) | tr '\n' ' '; echo
truncate -s 1M sparse; stat -c '%s' sparse
dd if=/dev/zero of=dd.out bs=1k count=64 status=none; stat -c '%s' dd.out
id -u; id -gn; whoami; test -w / && echo "root writable"
nproc >/dev/null && echo nproc ok; uname -s; env -i A=1 env
# timeout (timer + signals), big external sort with temp files and threads, fifos
timeout 0.3 sleep 5 || echo "timeout rc=$?"; timeout -s KILL 0.3 sleep 5 || echo "timeout KILL rc=$?"
timeout 5 true && echo "timeout quick ok"; timeout --preserve-status -s USR1 0.2 sleep 5 || echo "preserve rc=$?"
gawk 'BEGIN { x = 7; for (i = 0; i < 200000; i++) { x = (x * 1103515245 + 12345) % 2147483648; print x } }' > big.txt
sort -n -S 1M --parallel=2 -T . big.txt | sha256sum; sort -n big.txt | cmp - <(sort -n -S 1M --parallel=2 big.txt) && echo "sort agree"
sort -u -k1,1 -t, big.txt | wc -l; shuf --random-source=big.txt -n 3 -i 1-100 | wc -l
mkfifo ff; (seq 1 5000 > ff) & wc -l < ff; wait
sha256sum big.txt > sums; sha256sum -c sums; md5sum big.txt | cut -c1-32
install -m 751 -D big.txt inst/sub/big; stat -c '%a %s' inst/sub/big
truncate -s 10M holes; printf x | dd of=holes bs=1 seek=5M conv=notrunc status=none; cp --sparse=always holes holes2; cmp holes holes2 && echo "sparse copy same"; stat -c %s holes2
dd if=big.txt of=dd2 bs=4096 skip=2 count=3 conv=fsync status=none; stat -c %s dd2; dd if=big.txt bs=1M status=none iflag=fullblock | wc -c
ln -sr inst/sub/big rel; readlink rel; touch -h -d '2001-02-03' rel; stat -c '%Y' rel
cp -al inst hl; stat -c '%h' hl/sub/big; cp -r --preserve=mode,timestamps inst cp2; stat -c '%a' cp2/sub/big
stat -f -c '%T' .; df -i . | awk 'NR==2 {print "df -i ok", ($2 > 0)}'
tee t1 t2 < /dev/null > /dev/null; ls t1 t2; echo abc | tee -a t1 > /dev/null; cat t1
nice -n 5 nice; nohup true 2>/dev/null; echo "nohup rc=$?"; stdbuf -oL echo stdbuf; env -u HOME printenv TZ
mktemp -u XXXX | wc -c; ls -d /tmp/work.* | wc -l | awk '{print ($1 >= 1)}'
sleep 0.05; echo "sleep ok"; sync; echo "sync ok"; chown 1000:1000 t2; stat -c '%u:%g' t2
printf 'z\ny\n' > unsorted; sort -o unsorted unsorted; cat unsorted; sort -c unsorted && echo "sorted"
tac big.txt | head -n 1 >/dev/null || true; tail -c 20 big.txt | wc -c; head -c 1000 big.txt | wc -l
csplit -s -f cs big.txt 50000 150000; wc -l cs00 cs01 cs02 | tail -1
numfmt --to=iec 1048576; factor 1234567; expr 6 \* 7; pathchk -p abc && echo "pathchk ok"
# priorities (nice, ionice: inherited by children) and /proc/PID state and limits
ionice -c3 sh -c 'ionice; (ionice)'; nice -n 5 sh -c 'nice; (nice)'; ionice -c2 -n 3 -p $$ && ionice -p $$
cut -d' ' -f3 /proc/self/stat; sleep 5 & sp=$!
for i in $(seq 100); do [[ $(cut -d' ' -f3 /proc/$sp/stat) == S ]] && break; sleep 0.05; done; cut -d' ' -f3 /proc/$sp/stat; kill $sp
head -1 /proc/self/limits; grep -c '^Max' /proc/self/limits; grep '^Max cpu time' /proc/self/limits
