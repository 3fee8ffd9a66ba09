/* Process, time, signal and memory system calls, printed deterministically.
 * With argument "pending": a blocked SIGTERM stays pending until unblocked,
 * then ends the process (status 143). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void bye(void)
{
    printf("atexit ran\n");
}

static int pending(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGTERM);
    printf("still here with SIGTERM pending\n");
    fflush(stdout);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("not reached\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "pending") == 0)
        return pending();
    atexit(bye);

    struct utsname u;
    uname(&u);
    printf("uname %s %s\n", u.sysname, u.machine);
    printf("pid==tid %d ppid>0 %d\n", getpid() == gettid(), getppid() > 0);

    struct timespec t0, t1, res, req = {0, 2000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nanosleep(&req, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ns = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
    printf("slept>=2ms %d getres %d\n", ns >= 2000000, clock_getres(CLOCK_REALTIME, &res) == 0 && res.tv_sec == 0);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("time agrees %d\n", labs(tv.tv_sec - time(NULL)) <= 1);
    printf("bad clock %d\n", clock_gettime(12345, &t0) == -1 && errno == EINVAL);

    unsigned char rnd[16] = {0}, zero[16] = {0};
    printf("getrandom %zd nonzero %d\n", getrandom(rnd, sizeof rnd, 0), memcmp(rnd, zero, 16) != 0);

    cpu_set_t cpus;
    printf("affinity %d\n", sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) >= 1);
    struct rlimit rl;
    printf("stack limit %d\n", getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur >= (1 << 20));

    signal(SIGUSR1, SIG_IGN);
    printf("ignored SIGUSR1 %d\n", raise(SIGUSR1));
    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    printf("disposition kept %d\n", old.sa_handler == SIG_IGN);
    stack_t ss;
    printf("altstack disabled %d\n", sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_DISABLE));

    int word = 7;
    printf("futex wake %ld eagain %d\n", syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0),
           syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 8, NULL, NULL, 0) == -1 && errno == EAGAIN);

    int fd = open(argv[0], O_RDONLY);
    char *map = mmap(NULL, 10000, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("file map %d\n", map != MAP_FAILED && memcmp(map, "\177ELF", 4) == 0);
    struct stat st;
    fstat(fd, &st);
    struct statx sx;
    printf("statx %d\n", statx(AT_FDCWD, argv[0], 0, STATX_SIZE, &sx) == 0 && (off_t)sx.stx_size == st.st_size);
    munmap(map, 10000);
    close(fd);

    char *a = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(a, 'q', 3 * 4096);
    char *b = mremap(a, 3 * 4096, 64 * 4096, MREMAP_MAYMOVE);
    printf("mremap %d zeros %d\n", b != MAP_FAILED && b[3 * 4096 - 1] == 'q', b[64 * 4096 - 1] == 0);
    printf("mprotect %d\n", mprotect(b, 4096, PROT_READ) == 0);
    munmap(b, 64 * 4096);

    struct winsize ws;
    int p[2];
    pipe(p);
    printf("isatty %d winsize %d\n", isatty(p[0]), ioctl(p[0], TIOCGWINSZ, &ws) == -1 && errno == ENOTTY);
    printf("lseek pipe %d\n", lseek(p[0], 0, SEEK_SET) == -1 && errno == ESPIPE);
    printf("bad fd %d\n", write(99, "x", 1) == -1 && errno == EBADF);
    exit(5);
}
