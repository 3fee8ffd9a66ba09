/* string.h and stdio formatting: what most programs spend their time on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

static int cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(void)
{
    char buf[256];
    const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "date"};
    size_t n = sizeof words / sizeof words[0];

    qsort(words, n, sizeof words[0], cmp);
    for (size_t i = 0; i < n; i++)
        printf("%zu:%-8s|%8s|\n", i, words[i], words[i]);

    snprintf(buf, sizeof buf, "%d %i %u %x %X %o %ld %lld %c %%", -42, 17, 3000000000u, 0xbeef,
             0xcafe, 8, -1234567890123L, 9223372036854775807LL, 'Z');
    puts(buf);

    char line[] = "the quick  brown fox,jumps;over the lazy dog";
    int count = 0;
    for (char *tok = strtok(line, " ,;"); tok; tok = strtok(NULL, " ,;"))
        printf("[%s]", tok), count++;
    printf(" %d tokens\n", count);

    long v = strtol("  -0x1fz", NULL, 16);
    unsigned long u = strtoul("18446744073709551615", NULL, 10);
    printf("strtol=%ld strtoul=%lu atoi=%d\n", v, u, atoi("  123abc"));

    strcpy(buf, "Hello");
    strcat(buf, ", World");
    for (char *p = buf; *p; p++)
        *p = isupper((unsigned char)*p) ? tolower((unsigned char)*p) : toupper((unsigned char)*p);
    printf("%s len=%zu chr=%s rchr=%s str=%s\n", buf, strlen(buf), strchr(buf, 'O'),
           strrchr(buf, 'O'), strstr(buf, "wOR"));

    char mem[32];
    memset(mem, 'x', sizeof mem);
    memcpy(mem + 4, "abcdef", 6);
    memmove(mem + 6, mem + 4, 6);
    printf("%.16s cmp=%d ncmp=%d\n", mem, memcmp("abc", "abd", 3) < 0, strncmp("abcx", "abcy", 3));

    int a, b;
    char word[16];
    if (sscanf("12 34 words", "%d %d %15s", &a, &b, word) == 3)
        printf("sscanf: %d+%d=%d %s\n", a, b, a + b, word);
    fprintf(stdout, "%s\n", "done");
    return 0;
}
