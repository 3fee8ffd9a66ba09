/* Shared by the benchmark guests: the size argument and the checksum line.
 * Each program is CPU-bound, deterministic, and prints one checksum so every
 * engine, qemu-riscv64 and the native build can be checked against each other. */
#ifndef BENCH_H
#define BENCH_H
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

static long bench_size(int argc, char **argv, long fallback)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 0) : fallback;
    if (n <= 0) {
        fprintf(stderr, "usage: %s [SIZE > 0]\n", argv[0]);
        exit(2);
    }
    return n;
}

static void bench_result(const char *name, long size, uint64_t checksum)
{
    printf("%s %ld %016llx\n", name, size, (unsigned long long)checksum);
}

/* A small, fast, portable pseudo-random sequence (xorshift64*). */
static uint64_t bench_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}
#endif
