# sqlite3 workload: 10,000 single-row INSERTs in one transaction into a fresh database file in the
# directory given as argv[1]; prints "sqlite <ns for the whole insert phase> <rows>" (the interpreter's
# start-up is excluded; the harness also records the whole command's wall time).
import os
import sqlite3
import sys
import time

rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
path = os.path.join(sys.argv[1], 'bench-%d.db' % os.getpid())
t0 = time.perf_counter()
db = sqlite3.connect(path)
db.execute('create table t (id integer primary key, name text, value real)')
with db:
    for i in range(rows):
        db.execute('insert into t (name, value) values (?, ?)', ('row %d' % i, i * 0.5))
n = db.execute('select count(*) from t').fetchone()[0]
db.close()
elapsed = time.perf_counter() - t0
os.unlink(path)
if n != rows:
    sys.exit('sqlite: %d rows, expected %d' % (n, rows))
print('sqlite %.1f %d' % (elapsed * 1e9, rows))
