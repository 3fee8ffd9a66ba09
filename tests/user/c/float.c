/* Floating point through printf, libm and conversions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    volatile double third = 1.0 / 3.0, big = 1e300, tiny = 5e-324;
    volatile float f = 0.1f;
    printf("%f %.17g %e %g\n", third, third, big * 10, tiny);
    printf("%.3f %.10e %a\n", 2.0 / 7.0, 6.02214076e23, 1.5);
    printf("float %.9g %.17g\n", f, (double)f * 3);
    printf("sqrt2=%.17g exp1=%.17g log10=%.17g\n", sqrt(2.0), exp(1.0), log(10.0));
    printf("sin=%.15f cos=%.15f atan2=%.15f pow=%.17g\n", sin(1.0), cos(1.0), atan2(1.0, -1.0),
           pow(2.0, 0.5));
    printf("floor=%g ceil=%g round=%g trunc=%g fmod=%g\n", floor(-2.5), ceil(-2.5), round(2.5),
           trunc(-2.7), fmod(7.5, 2.0));
    volatile double inf = big * big, nan = inf - inf;
    printf("inf=%f -inf=%f nan=%f isnan=%d\n", inf, -inf, nan, isnan(nan));
    printf("conv %d %ld %u %d\n", (int)-3.99, (long)1e18, (unsigned)3.5e9, (int)(float)2.5);
    printf("strtod %.17g %.17g\n", strtod("3.14159265358979323846", NULL), strtod("1e-310", NULL));
    double acc = 0;
    for (int i = 1; i <= 1000; i++)
        acc += 1.0 / ((double)i * i);
    printf("basel %.15f fma %.17g\n", acc, fma(0.1, 10.0, -1.0));
    return 0;
}
