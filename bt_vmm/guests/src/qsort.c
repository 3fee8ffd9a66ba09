/* Quicksort (median of three, insertion sort for small runs) of SIZE
 * pseudo-random 64-bit keys: compares, swaps, recursion. */
#include "bench.h"

static void insertion(int64_t *a, long n)
{
    for (long i = 1; i < n; i++) {
        int64_t v = a[i];
        long j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void swap(int64_t *a, int64_t *b)
{
    int64_t t = *a;
    *a = *b;
    *b = t;
}

static void quicksort(int64_t *a, long n)
{
    while (n > 16) {
        long mid = n / 2;
        if (a[mid] < a[0]) swap(&a[mid], &a[0]);
        if (a[n - 1] < a[0]) swap(&a[n - 1], &a[0]);
        if (a[n - 1] < a[mid]) swap(&a[n - 1], &a[mid]);
        int64_t pivot = a[mid];
        long i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i >= j) break;
            swap(&a[i++], &a[j--]);
        }
        /* Recurse into the smaller half, loop on the larger: bounded stack. */
        if (j + 1 < n - j - 1) {
            quicksort(a, j + 1);
            a += j + 1;
            n -= j + 1;
        } else {
            quicksort(a + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    insertion(a, n);
}

int main(int argc, char **argv)
{
    long n = bench_size(argc, argv, 25000);
    int64_t *a = malloc(n * sizeof *a);
    if (!a) return 1;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (long i = 0; i < n; i++)
        a[i] = (int64_t)bench_rand(&seed);
    quicksort(a, n);
    uint64_t sum = 0;
    for (long i = 0; i < n; i++) {
        if (i && a[i - 1] > a[i]) return 1;
        sum = sum * 31 + (uint64_t)a[i];
    }
    bench_result("qsort", n, sum);
    free(a);
    return 0;
}
