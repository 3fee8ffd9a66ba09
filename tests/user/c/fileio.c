/* File I/O in the directory named by argv[1]: every call the C library
 * makes for open/read/write/stat/readdir/rename/unlink, and their errors. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHECK(cond) do { if (!(cond)) { printf("FAIL line %d: %s (errno %d)\n", __LINE__, #cond, errno); return 1; } } while (0)

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    CHECK(chdir(argv[1]) == 0);

    FILE *f = fopen("data.txt", "w");
    CHECK(f != NULL);
    for (int i = 0; i < 100; i++)
        fprintf(f, "line %03d\n", i);
    CHECK(fclose(f) == 0);

    struct stat st;
    CHECK(stat("data.txt", &st) == 0);
    printf("size %ld regular %d\n", (long)st.st_size, S_ISREG(st.st_mode));

    int fd = open("data.txt", O_RDWR);
    CHECK(fd >= 0);
    char buf[64] = {0};
    CHECK(pread(fd, buf, 8, 9 * 50) == 8);
    printf("pread [%s]\n", buf);
    CHECK(lseek(fd, -9, SEEK_END) == 891);
    CHECK(read(fd, buf, 64) == 9);
    printf("tail [%.8s]\n", buf);
    CHECK(pwrite(fd, "LINE", 4, 0) == 4);
    struct iovec iov[2] = {{buf, 5}, {buf + 5, 4}};
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK(readv(fd, iov, 2) == 9);
    printf("readv [%.8s]\n", buf);
    int fd2 = dup(fd);
    CHECK(fd2 > fd);
    CHECK(fstat(fd2, &st) == 0 && st.st_size == 900);
    CHECK(close(fd2) == 0 && close(fd) == 0);
    CHECK(close(fd) == -1 && errno == EBADF);

    CHECK(mkdir("sub", 0755) == 0);
    CHECK(mkdir("sub", 0755) == -1 && errno == EEXIST);
    CHECK(rename("data.txt", "sub/moved.txt") == 0);
    CHECK(access("data.txt", F_OK) == -1 && errno == ENOENT);
    CHECK(access("sub/moved.txt", R_OK | W_OK) == 0);
    CHECK(open("missing", O_RDONLY) == -1 && errno == ENOENT);
    f = fopen("sub/second", "w");
    CHECK(f && fputs("x", f) >= 0 && fclose(f) == 0);

    DIR *d = opendir("sub");
    CHECK(d != NULL);
    char *names[8];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 8;)
        names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    for (int i = 0; i < n; i++)
        printf("entry %s\n", names[i]);

    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir("sub") == 0);
    char cwd2[4096];
    CHECK(getcwd(cwd2, sizeof cwd2) != NULL);
    CHECK(strncmp(cwd, cwd2, strlen(cwd)) == 0 && strcmp(cwd2 + strlen(cwd), "/sub") == 0);
    CHECK(chdir("..") == 0);

    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "through a pipe", 14) == 14);
    memset(buf, 0, sizeof buf);
    CHECK(read(p[0], buf, sizeof buf) == 14);
    printf("pipe [%s]\n", buf);
    CHECK(dup2(p[0], 20) == 20 && fcntl(20, F_GETFD) == 0);
    CHECK(close(p[0]) == 0 && close(p[1]) == 0 && close(20) == 0);

    CHECK(unlink("sub/moved.txt") == 0 && unlink("sub/second") == 0);
    CHECK(rmdir("sub") == 0);
    CHECK(stat("sub", &st) == -1 && errno == ENOENT);
    printf("done\n");
    return 0;
}
