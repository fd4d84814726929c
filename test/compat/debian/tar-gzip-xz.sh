mkdir -p src/sub src/empty
gawk 'BEGIN { x = 1; for (i = 0; i < 200000; i++) { x = (x * 1103515245 + 12345) % 2147483648; printf "%c", 32 + x % 90 } }' > src/random.txt
seq 1 50000 > src/sub/nums.txt; printf 'small\n' > src/sub/s; ln -s sub/s src/link
touch -d '2022-02-02 02:02:02' src/random.txt src/sub/nums.txt src/sub/s
(cd src && find . -type f | sort | xargs sha256sum) > before.sum
TARFLAGS=(--sort=name --mtime=@1000000000 --owner=0 --group=0 --numeric-owner --format=gnu)
tar -cf a.tar "${TARFLAGS[@]}" src; sha256sum a.tar | cut -c1-64; stat -c %s a.tar
tar -tvf a.tar | gawk '{print $1, $2, $3, $6}'
gzip -9 -n -k a.tar; sha256sum a.tar.gz | cut -c1-64; gzip -l a.tar.gz | tail -1 | gawk '{print $1, $2}'
gzip -t a.tar.gz && echo "gzip test ok"
xz -T1 -6 -k a.tar; sha256sum a.tar.xz | cut -c1-64; xz -t a.tar.xz && echo "xz test ok"
xz -l --robot a.tar.xz | gawk '$1 == "totals" {print $5}'
tar -czf b.tgz "${TARFLAGS[@]}" src; tar -cJf b.txz "${TARFLAGS[@]}" src
tar -tzf b.tgz | sort | tr '\n' ' '; echo; tar -tJf b.txz | wc -l
for a in a.tar b.tgz b.txz; do
  rm -rf out; mkdir out; tar -xf "$a" -C out
  (cd out/src && find . -type f | sort | xargs sha256sum) > after.sum
  cmp before.sum after.sum && echo "$a: checksums match"
  stat -c '%Y %a' out/src/random.txt; readlink out/src/link; [[ -d out/src/empty ]] && echo "$a: empty dir kept"
done
zcat a.tar.gz | cmp - a.tar && echo "zcat same"; xzcat a.tar.xz | cmp - a.tar && echo "xzcat same"
gunzip -c b.tgz | tar -tf - src/sub/s; xz -dc b.txz | tar -xOf - src/sub/s
seq 1 100000 | gzip -c | gzip -dc | tail -1; seq 1 100000 | xz -c -T1 | xz -dc | wc -l
tar -cf - -C src sub | tar -xf - -C out && cmp out/sub/nums.txt src/sub/nums.txt && echo "pipe copy ok"
tar -rf a.tar before.sum && tar -tf a.tar | tail -1; tar --delete -f a.tar before.sum && tar -tf a.tar | wc -l
# sparse files (SEEK_HOLE/SEEK_DATA), hard links, incremental archives, multithreaded xz, gzip -r
truncate -s 20M sp/sparse 2>/dev/null || { mkdir sp; truncate -s 20M sp/sparse; }
printf 'middle' | dd of=sp/sparse bs=1 seek=10M conv=notrunc status=none; printf 'end' >> sp/sparse
ln sp/sparse sp/hard; touch -d '2022-02-02' sp/sparse
tar -cSf sp.tar --sort=name --mtime=@0 --owner=0 --group=0 sp; echo "sparse tar small: $(( $(stat -c %s sp.tar) < 1000000 ))"
tar -tvf sp.tar | gawk '{print $1, $3, $6, $7, $8}'
rm -rf out2; mkdir out2; tar -xSf sp.tar -C out2; cmp sp/sparse out2/sp/sparse && echo "sparse extract same"
[[ out2/sp/sparse -ef out2/sp/hard ]] && echo "hard link kept"; stat -c '%s %h' out2/sp/sparse
tar -g snap -cf full.tar --sort=name src; echo new > src/newfile; sleep 1.1; touch src/newfile
tar -g snap -cf incr.tar --sort=name src; tar -tf incr.tar | grep -c newfile
seq 1 400000 > big; xz -T2 -k -9 big; xz -dc big.xz | cmp - big && echo "xz -T2 roundtrip"; xz -l --robot big.xz | gawk '$1 == "totals" {print $5}'
mkdir -p gz/a; seq 100 > gz/a/1; seq 200 > gz/2; gzip -r gz; find gz -type f | sort; gunzip -r gz; cat gz/a/1 | wc -l
tar -cf - src | gzip -1 | gzip -dc | tar -tf - | wc -l; tar --use-compress-program='xz -T2' -cf ux.tar.xz src && tar -tJf ux.tar.xz | wc -l
tar -cf ex.tar --exclude='*.txt' src; tar -tf ex.tar | sort | tr '\n' ' '; echo
# extended attributes through cp -a and tar --xattrs
python3 -c 'import os; os.setxattr("src/sub/s", "user.origin", b"tsvisor")'
cp -a src/sub/s xa-copy; tar --xattrs -cf xa.tar src/sub/s; mkdir xa-out; tar --xattrs --xattrs-include='user.*' -xf xa.tar -C xa-out
python3 -c 'import os; print("xattrs", os.getxattr("xa-copy", "user.origin"), os.getxattr("xa-out/src/sub/s", "user.origin"))'
