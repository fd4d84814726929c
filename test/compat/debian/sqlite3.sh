{
  echo 'CREATE TABLE t (id INTEGER PRIMARY KEY, grp TEXT NOT NULL, val INTEGER, name TEXT);'
  echo 'CREATE INDEX t_grp ON t (grp);'
  echo 'BEGIN;'
  gawk 'BEGIN { for (i = 1; i <= 10000; i++) printf "INSERT INTO t (grp, val, name) VALUES (%c%s%c, %d, %cn%05d%c);\n", 39, "g" (i % 7), 39, (i * 37) % 1000, 39, i, 39 }'
  echo 'COMMIT;'
} > load.sql
sqlite3 db.sqlite < load.sql
sqlite3 db.sqlite 'SELECT count(*), sum(val), min(val), max(val), round(avg(val), 3) FROM t;'
sqlite3 -header -column db.sqlite 'SELECT grp, count(*) AS n, sum(val) AS s, max(name) AS last FROM t GROUP BY grp ORDER BY grp;'
sqlite3 db.sqlite "SELECT grp, count(*) FROM t WHERE val > 500 AND name LIKE 'n0%' GROUP BY grp HAVING count(*) > 500 ORDER BY 2 DESC, 1;"
sqlite3 db.sqlite 'PRAGMA integrity_check; PRAGMA journal_mode; SELECT count(*) FROM sqlite_master;'
sqlite3 db.sqlite 'PRAGMA journal_mode=WAL;' 'BEGIN; UPDATE t SET val = val + 1 WHERE grp = "g3"; DELETE FROM t WHERE id % 100 = 0; COMMIT;' 'SELECT count(*), sum(val) FROM t;'
sqlite3 db.sqlite 'PRAGMA journal_mode=DELETE;' 'VACUUM;' 'SELECT total_changes() >= 0;'
sqlite3 db.sqlite 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) SELECT sum(x) FROM c;'
sqlite3 db.sqlite '.schema t' | sed -n 1p
sqlite3 -csv db.sqlite 'SELECT id, name FROM t ORDER BY id DESC LIMIT 3;'
sqlite3 db.sqlite '.dump' | grep -c INSERT
sqlite3 db.sqlite 'CREATE TABLE j AS SELECT a.grp, b.val FROM t a JOIN t b ON a.id = b.id + 1 WHERE a.id < 50; SELECT count(*), sum(val) FROM j;'
sqlite3 :memory: 'SELECT json_extract(json_object("a", 1, "b", json_array(2, 3)), "$.b[1]"), printf("%08.2f", 3.14159), upper("abc");'
# WAL with concurrent processes (shared memory-mapped -shm file, fcntl byte-range locks), mmap I/O
sqlite3 wal.db 'PRAGMA journal_mode=WAL; CREATE TABLE c (n INTEGER);' > /dev/null
writer() { for i in $(seq 1 40); do sqlite3 -cmd '.timeout 20000' wal.db "INSERT INTO c VALUES ($1);"; done; }
writer 1 & w1=$!; writer 2 & w2=$!
readers=0; for i in $(seq 1 20); do v=$(sqlite3 -cmd '.timeout 20000' wal.db 'SELECT count(*) FROM c;'); [[ $v -ge 0 ]] && readers=$((readers + 1)); done
wait $w1 $w2; echo "readers ok $readers"; sqlite3 wal.db 'SELECT n, count(*) FROM c GROUP BY n; PRAGMA wal_checkpoint(TRUNCATE);' | cut -d'|' -f1,2 | sed -n 1,3p
sqlite3 mm.db 'PRAGMA mmap_size=268435456;' 'CREATE TABLE m (k INTEGER PRIMARY KEY, v BLOB);' 'BEGIN;' \
  'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) INSERT INTO m SELECT x, randomblob(200) FROM c;' 'COMMIT;' \
  'SELECT count(*), sum(length(v)) FROM m;' 'PRAGMA integrity_check;' | tail -2
sqlite3 mm.db 'PRAGMA mmap_size=268435456;' 'UPDATE m SET v = zeroblob(100) WHERE k % 2 = 0;' 'SELECT sum(length(v)) FROM m;'
sqlite3 db.sqlite '.backup bk.db'; sqlite3 bk.db 'SELECT count(*) FROM t;'
sqlite3 db.sqlite 'ATTACH "bk.db" AS b; SELECT count(*) FROM t JOIN b.t USING (id);'
sqlite3 db.sqlite 'CREATE VIRTUAL TABLE ft USING fts5(body); INSERT INTO ft VALUES ("the quick brown fox"), ("lazy dog"); SELECT body FROM ft WHERE ft MATCH "quick";'
