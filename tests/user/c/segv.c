#include <stdio.h>

int main(int argc, char **argv)
{
    volatile int *p = (volatile int *)(long)(argc - 1);   /* NULL when run without arguments */
    printf("before\n");
    fflush(stdout);
    return *p;
}
