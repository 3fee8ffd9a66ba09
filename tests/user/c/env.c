/* argv, environment and the auxiliary vector as glibc sees them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(int argc, char **argv, char **envp)
{
    printf("argc %d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d] %s\n", i, argv[i]);
    int nenv = 0;
    while (envp[nenv])
        nenv++;
    printf("env %d GREETING=%s\n", nenv, getenv("GREETING"));
    printf("pagesz %lu %ld\n", getauxval(AT_PAGESZ), sysconf(_SC_PAGESIZE));
    printf("hwcap %#lx\n", getauxval(AT_HWCAP));
    printf("clktck %lu %ld\n", getauxval(AT_CLKTCK), sysconf(_SC_CLK_TCK));
    printf("secure %lu\n", getauxval(AT_SECURE));
    printf("execfn %d\n", strcmp((const char *)getauxval(AT_EXECFN), argv[0]) == 0);
    printf("random %d\n", getauxval(AT_RANDOM) != 0);
    printf("uid %d\n", getauxval(AT_UID) == getuid());
    printf("phdr %d\n", getauxval(AT_PHDR) != 0 && getauxval(AT_PHNUM) > 0);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    printf("exe %s\n", strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe);
    return 0;
}
