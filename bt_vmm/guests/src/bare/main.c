/* The bare-metal builds' entry (see ../../rebuild.sh): the benchmark's own
 * main, renamed, called with the size the build baked in (no command line
 * there). */
int bench_main(int argc, char **argv);

int main(void)
{
    char *argv[] = {"bench", BENCH_SIZE, 0};
    return bench_main(2, argv);
}
