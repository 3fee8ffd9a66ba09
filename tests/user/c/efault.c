/* Hostile pointers through the C library: each call must fail with EFAULT
 * (never crash the VMM), and the program goes on to report it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BAD ((void *)0x1000)
#define FAR ((void *)0x7ffffffffff0)

static void report(const char *what, long r)
{
    printf("%-10s %s\n", what, r == -1 && errno == EFAULT ? "EFAULT" : "WRONG");
}

int main(void)
{
    struct iovec bad_iov = {BAD, 8};
    struct stat st;
    report("write", write(1, BAD, 8));
    report("read", read(0, FAR, 8));
    report("openat", syscall(SYS_openat, AT_FDCWD, BAD, O_RDONLY));
    report("readv", readv(0, &bad_iov, 1));
    report("writev", writev(1, (struct iovec *)BAD, 1));
    report("fstat", syscall(SYS_fstat, 1, BAD));
    report("newfstatat", syscall(SYS_newfstatat, AT_FDCWD, ".", FAR, 0));
    report("statx", syscall(SYS_statx, AT_FDCWD, BAD, 0, 0x7ff, &st));
    report("pread64", pread(0, BAD, 8, 0));
    report("getcwd", syscall(SYS_getcwd, BAD, 64));
    report("mkdirat", syscall(SYS_mkdirat, AT_FDCWD, FAR, 0755));
    report("unlinkat", syscall(SYS_unlinkat, AT_FDCWD, BAD, 0));
    report("pipe2", syscall(SYS_pipe2, BAD, 0));
    report("clock", syscall(SYS_clock_gettime, CLOCK_REALTIME, BAD));
    report("uname", syscall(SYS_uname, FAR));
    report("getrandom", syscall(SYS_getrandom, BAD, 16, 0));
    report("sigaction", syscall(SYS_rt_sigaction, 10, BAD, NULL, 8));
    report("readlinkat", syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", BAD, 64));
    report("getdents64", syscall(SYS_getdents64, open(".", O_RDONLY | O_DIRECTORY), BAD, 4096));
    printf("still alive\n");
    return 0;
}
