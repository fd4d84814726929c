/*
 * ipcshare: System V shared memory and POSIX message queues across containers that share an IPC
 * namespace (test/oci/pods.test.ts, docker.test.ts).
 *   ipcshare put KEY TEXT   create segment KEY (IPC_CREAT|IPC_EXCL) and queue "/tsv-KEY", store TEXT in both
 *   ipcshare get KEY        print the segment's text and the queue's message; exit 2 if either is missing
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(int argc, char **argv) {
  if (argc < 3) return 64;
  key_t key = (key_t)strtol(argv[2], NULL, 0);
  char qname[64];
  snprintf(qname, sizeof qname, "/tsv-%s", argv[2]);
  if (strcmp(argv[1], "put") == 0 && argc == 4) {
    int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
    if (id < 0) { perror("shmget"); return 1; }
    char *p = shmat(id, NULL, 0);
    if (p == (void *)-1) { perror("shmat"); return 1; }
    strncpy(p, argv[3], 4095);
    shmdt(p);
    struct mq_attr a = { .mq_maxmsg = 4, .mq_msgsize = 128 };
    mqd_t q = mq_open(qname, O_CREAT | O_EXCL | O_WRONLY, 0600, &a);
    if (q == (mqd_t)-1) { perror("mq_open"); return 1; }
    if (mq_send(q, argv[3], strlen(argv[3]), 0) < 0) { perror("mq_send"); return 1; }
    mq_close(q);
    printf("put %d\n", id);
    return 0;
  }
  if (strcmp(argv[1], "get") == 0) {
    int id = shmget(key, 0, 0);
    if (id < 0) { printf("shm: %s\n", strerror(errno)); return 2; }
    char *p = shmat(id, NULL, SHM_RDONLY);
    if (p == (void *)-1) { perror("shmat"); return 1; }
    printf("shm: %s\n", p);
    mqd_t q = mq_open(qname, O_RDONLY | O_NONBLOCK);
    if (q == (mqd_t)-1) { printf("mq: %s\n", strerror(errno)); return 2; }
    char buf[128];
    ssize_t n = mq_receive(q, buf, sizeof buf, NULL);
    if (n < 0) { printf("mq: %s\n", strerror(errno)); return 2; }
    printf("mq: %.*s\n", (int)n, buf);
    return 0;
  }
  return 64;
}
