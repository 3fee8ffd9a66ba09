/* Prints the fields of stat() and statx() of argv[1], for comparison with the host's view. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
    struct stat st;
    struct statx sx;
    if (argc != 2 || stat(argv[1], &st) != 0 || statx(AT_FDCWD, argv[1], 0, STATX_BASIC_STATS, &sx) != 0)
        return 1;
    printf("stat %lu %lu %o %lu %u %u %ld %ld %ld %ld %ld %ld %ld\n", (unsigned long)st.st_dev,
           (unsigned long)st.st_ino, st.st_mode, (unsigned long)st.st_nlink, st.st_uid, st.st_gid,
           (long)st.st_size, (long)st.st_blksize, (long)st.st_blocks, (long)st.st_atim.tv_sec,
           st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    printf("statx %llu %o %u %llu %lld %u\n", (unsigned long long)sx.stx_ino, sx.stx_mode, sx.stx_nlink,
           (unsigned long long)sx.stx_size, (long long)sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec);
    return 0;
}
