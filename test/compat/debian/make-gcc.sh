mkdir proj && cd proj
cat > util.h <<'EOF'
#ifndef UTIL_H
#define UTIL_H
long fib(int n);
void sort_ints(int *v, int n);
#endif
EOF
cat > util.c <<'EOF'
#include <stdlib.h>
#include "util.h"
long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
void sort_ints(int *v, int n) { qsort(v, n, sizeof *v, cmp); }
EOF
cat > main.c <<'EOF'
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <pthread.h>
#include "util.h"
static long partial[4];
static void *work(void *arg) { long i = (long)arg; for (long k = i; k < 1000000; k += 4) partial[i] += k; return NULL; }
int main(int argc, char **argv) {
  int v[] = {5, 3, 9, 1, 7};
  sort_ints(v, 5);
  for (int i = 0; i < 5; i++) printf("%d%c", v[i], i == 4 ? '\n' : ' ');
  printf("fib(30)=%ld sqrt(2)=%.6f argc=%d arg=%s\n", fib(30), sqrt(2.0), argc, argc > 1 ? argv[1] : "-");
  pthread_t t[4];
  for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, work, (void *)i);
  long sum = 0;
  for (int i = 0; i < 4; i++) { pthread_join(t[i], NULL); sum += partial[i]; }
  printf("threads sum=%ld\n", sum);
  FILE *f = fopen("out.txt", "w"); fprintf(f, "%s\n", VERSION); fclose(f);
  return strlen(VERSION);
}
EOF
cat > Makefile <<'EOF'
CC = gcc
CFLAGS = -O2 -Wall -Wextra -DVERSION='"1.2.3"'
LDLIBS = -lm -lpthread
OBJS = main.o util.o
prog: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $(OBJS) $(LDLIBS)
%.o: %.c util.h
	$(CC) $(CFLAGS) -c -o $@ $<
.PHONY: clean check
check: prog
	./prog hello; echo "prog exit $$?"
clean:
	rm -f prog $(OBJS)
EOF
make -s -j2 prog && echo "built"
ls *.o prog | tr '\n' ' '; echo
./prog hello || echo "exit $?"
cat out.txt
make -q prog && echo "up to date"
touch -d '2000-01-01' util.o; touch util.c; make -n prog | sed 's/ \+/ /g'
make -s check
make -s clean; ls | tr '\n' ' '; echo
gcc -O0 -g -static -o static_prog main.c util.c -lm -lpthread -DVERSION='"s"' 2>/dev/null && (./static_prog x || echo "static exit $?")
echo 'int main(void){return 42;}' | gcc -x c -o r42 - && { ./r42 || echo "r42 exit $?"; }
gcc -E -dM - < /dev/null | grep -c __x86_64__
# a shared library with dlopen, a static archive, -flto with the jobserver, -pipe, ASan
mkdir ../lib && cd ../lib
printf 'int twice(int x) { return 2 * x; }\n' > twice.c
printf '#include <stdio.h>\n#include <dlfcn.h>\nint twice(int);\nint main(void) { void *h = dlopen("./libtwice.so", RTLD_NOW); int (*f)(int) = (int (*)(int))dlsym(h, "twice");\n printf("direct %%d dlopen %%d\\n", twice(21), f ? f(5) : -1); return dlclose(h); }\n' > use.c
cat > Makefile <<'EOF2'
all: use_shared use_static use_lto
libtwice.so: twice.c
	gcc -pipe -fPIC -shared -o $@ $<
libtwice.a: twice.c
	gcc -c -o twice.o $< && ar rcs $@ twice.o && ranlib $@
use_shared: use.c libtwice.so
	gcc -o $@ use.c -L. -ltwice -Wl,-rpath,'$$ORIGIN' -ldl
use_static: use.c libtwice.a libtwice.so
	gcc -o $@ use.c libtwice.a -ldl
use_lto: use.c twice.c libtwice.so
	+gcc -O2 -flto=auto -o $@ use.c twice.c -ldl
EOF2
make -s -j3 && ./use_shared && ./use_static && ./use_lto
ar t libtwice.a; nm -D libtwice.so | grep -c twice; readelf -d use_shared | grep -c RUNPATH
printf '#include <stdlib.h>\n#include <stdio.h>\nint main(int c, char **v) { int *p = malloc(40); p[c * 10] = 1; printf("unreached %%d\\n", p[0]); free(p); return 0; }\n' > oob.c
gcc -g -fsanitize=address -o oob oob.c && { ASAN_OPTIONS=detect_leaks=0 ./oob 2> asan.txt || echo "asan exit $?"; grep -o 'heap-buffer-overflow' asan.txt | head -1; }
printf '#include <stdio.h>\nint main(void) { int x = 0x7fffffff; x += argc_dummy(); return 0; }\n' > /dev/null
printf 'int main(int c, char **v) { (void)v; int x = 2147483647; x += c; return x == 0; }\n' > ub.c
gcc -fsanitize=undefined -o ub ub.c && { ./ub 2>&1 | grep -o 'signed integer overflow' || true; }
gcc -O2 -o threads -x c - -lpthread <<'EOF2'
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
static atomic_long n; static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER; static pthread_cond_t cv = PTHREAD_COND_INITIALIZER; static int ready;
static void *f(void *a) { (void)a; for (int i = 0; i < 100000; i++) atomic_fetch_add(&n, 1);
  pthread_mutex_lock(&m); ready++; pthread_cond_broadcast(&cv); pthread_mutex_unlock(&m); return 0; }
int main(void) { pthread_t t[8]; for (int i = 0; i < 8; i++) pthread_create(&t[i], 0, f, 0);
  pthread_mutex_lock(&m); while (ready < 8) pthread_cond_wait(&cv, &m); pthread_mutex_unlock(&m);
  for (int i = 0; i < 8; i++) pthread_join(t[i], 0); printf("atomic %ld\n", (long)n); return 0; }
EOF2
./threads
