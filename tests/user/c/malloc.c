/* malloc-heavy: many sizes, frees in a scrambled order, realloc, calloc, and
 * blocks big enough that glibc takes them from mmap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 400

static unsigned long lcg(unsigned long *s)
{
    *s = *s * 6364136223846793005UL + 1442695040888963407UL;
    return *s >> 33;
}

int main(void)
{
    static unsigned char *blocks[N];
    static size_t sizes[N];
    unsigned long seed = 42, sum = 0;

    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            sizes[i] = 1 + lcg(&seed) % (i % 50 == 0 ? 200000 : 600);
            blocks[i] = malloc(sizes[i]);
            if (!blocks[i])
                return 1;
            memset(blocks[i], i & 0xff, sizes[i] < 64 ? sizes[i] : 64);
        }
        for (int i = 0; i < N; i += 2) {   /* free half, then grow the rest */
            free(blocks[i]);
            blocks[i] = NULL;
        }
        for (int i = 1; i < N; i += 2) {
            size_t grow = sizes[i] * 2 + 7;
            blocks[i] = realloc(blocks[i], grow);
            if (!blocks[i])
                return 2;
            for (size_t k = 0; k < (sizes[i] < 64 ? sizes[i] : 64); k++)
                sum += blocks[i][k];
            sizes[i] = grow;
        }
        for (int i = 1; i < N; i += 2)
            free(blocks[i]);
    }
    unsigned char *z = calloc(1000, 100);
    for (int i = 0; i < 100000; i += 997)
        sum += z[i];
    free(z);
    char *big = malloc(8 << 20);
    big[0] = 1, big[(8 << 20) - 1] = 2;
    sum += big[0] + big[(8 << 20) - 1];
    free(big);
    printf("checksum %lu\n", sum);
    return 0;
}
