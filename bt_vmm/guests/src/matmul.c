/* Integer matrix multiply C = A x B of SIZE x SIZE 32-bit matrices:
 * loads, multiply-accumulate, array indexing. */
#include "bench.h"

int main(int argc, char **argv)
{
    long n = bench_size(argc, argv, 70);
    int32_t *a = malloc(n * n * sizeof *a), *b = malloc(n * n * sizeof *b);
    int64_t *c = calloc(n * n, sizeof *c);
    if (!a || !b || !c) return 1;
    uint64_t seed = 42;
    for (long i = 0; i < n * n; i++) {
        a[i] = (int32_t)(bench_rand(&seed) % 2001) - 1000;
        b[i] = (int32_t)(bench_rand(&seed) % 2001) - 1000;
    }
    for (long i = 0; i < n; i++)
        for (long k = 0; k < n; k++) {
            int64_t aik = a[i * n + k];
            for (long j = 0; j < n; j++)
                c[i * n + j] += aik * b[k * n + j];
        }
    uint64_t sum = 0;
    for (long i = 0; i < n * n; i++)
        sum = sum * 1000003 + (uint64_t)c[i];
    bench_result("matmul", n, sum);
    return 0;
}
