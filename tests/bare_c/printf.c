/* picolibc's printf through the HTIF console: integers, strings, doubles. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static volatile double third = 1.0 / 3.0; /* volatile: computed at run time */

int main(void)
{
    char buf[64];
    printf("int %d %i %u %d\n", 0, -42, 4000000000u, 2147483647);
    printf("long %ld %lld %llu\n", -9000000000l, (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
    printf("hex %x %#lx %08X %o\n", 0xbeef, 0x123456789abcul, 0xcafe, 8);
    printf("width [%5d] [%-5d] [%05d] [%+d]\n", 42, 42, 42, 42);
    printf("str [%s] [%8s] [%-8s] [%.3s] %c\n", "risc", "v", "vmm", "abcdef", 'Z');
    printf("double %f %.3f %e %g\n", 3.14159265358979, -0.5, 6.02214076e23, 1e-5);
    printf("more %.10f %g %.2f %f\n", third * 3 - 1 + third, 100000.0 * 10, 2.675, -0.0);
    printf("sqrt %.12f\n", __builtin_sqrt(third * 6));
    int n = snprintf(buf, sizeof buf, "%s-%d-%.1f", "x", 7, 2.25);
    printf("snprintf %d [%s] %d\n", n, buf, (int)strlen(buf));
    fputs("to stderr\n", stderr);
    return 5;
}
