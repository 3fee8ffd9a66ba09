/* Count the solutions of the N-queens problem by backtracking over bit
 * masks: branches, shifts and recursion. */
#include "bench.h"

static long solve(int n, uint32_t cols, uint32_t diag1, uint32_t diag2)
{
    uint32_t all = (1u << n) - 1;
    if (cols == all)
        return 1;
    long count = 0;
    uint32_t free_ = all & ~(cols | diag1 | diag2);
    while (free_) {
        uint32_t bit = free_ & -free_;
        free_ -= bit;
        count += solve(n, cols | bit, (diag1 | bit) << 1, (diag2 | bit) >> 1);
    }
    return count;
}

int main(int argc, char **argv)
{
    long n = bench_size(argc, argv, 10);
    if (n > 20) {
        fprintf(stderr, "nqueens: N must be at most 20\n");
        return 2;
    }
    bench_result("nqueens", n, (uint64_t)solve((int)n, 0, 0, 0));
    return 0;
}
