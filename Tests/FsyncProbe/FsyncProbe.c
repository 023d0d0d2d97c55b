// A test-only LD_PRELOAD library: every completed fsync(2) or fdatasync(2) call of the process
// is appended, with the path of the file synced, to the file named by $MINERALSYNC_SYNC_LOG.
// The durability test starts mineral-syncd with it and checks that each acknowledged write was
// preceded by a sync of the store's files: take `PRAGMA synchronous = FULL` away and it fails.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void record(const char *call, int fd) {
    const char *log = getenv("MINERALSYNC_SYNC_LOG");
    if (log == NULL) return;
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t length = readlink(link, target, sizeof target - 1);
    if (length < 0) length = 0;
    target[length] = 0;
    char line[4200];
    int size = snprintf(line, sizeof line, "%s %s\n", call, target);
    int out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (out < 0) return;
    if (size > 0) (void)write(out, line, (size_t)size < sizeof line ? (size_t)size : sizeof line - 1);
    close(out);
}

int fsync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int result = real(fd);
    if (result == 0) record("fsync", fd);
    return result;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int result = real(fd);
    if (result == 0) record("fdatasync", fd);
    return result;
}
