/* An integer mix in the spirit of Dhrystone and CoreMark: a linked-list
 * walk with find/reverse, a table-driven state machine over a text, CRC-16,
 * and string copies/compares; SIZE iterations. */
#include <string.h>
#include "bench.h"

struct node { struct node *next; int32_t key; int32_t value; };

static uint16_t crc16(uint16_t crc, uint8_t byte)
{
    crc ^= byte;
    for (int i = 0; i < 8; i++)
        crc = (crc & 1) ? (crc >> 1) ^ 0xA001 : crc >> 1;
    return crc;
}

static struct node *reverse(struct node *list)
{
    struct node *prev = NULL;
    while (list) {
        struct node *next = list->next;
        list->next = prev;
        prev = list;
        list = next;
    }
    return prev;
}

static int32_t find(struct node *list, int32_t key)
{
    for (; list; list = list->next)
        if (list->key == key)
            return list->value;
    return -1;
}

/* Decimal digits of v at out; returns the length (Dhrystone-style string work). */
static int decimal(char *out, uint32_t v)
{
    char tmp[10];
    int n = 0, len = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        out[len++] = tmp[--n];
    return len;
}

enum { START, INT, FRAC, EXP, ERR, NSTATES };

static int classify(char c)
{
    if (c >= '0' && c <= '9') return 0;
    if (c == '.') return 1;
    if (c == 'e' || c == 'E') return 2;
    if (c == ',') return 3;
    return 4;
}

/* Counts numbers by final state in a comma-separated text (CoreMark's core_state). */
static void state_machine(const char *text, uint32_t counts[NSTATES])
{
    static const uint8_t next[NSTATES][5] = {
        {INT, FRAC, ERR, START, ERR}, {INT, FRAC, EXP, START, ERR}, {FRAC, ERR, EXP, START, ERR},
        {EXP, ERR, ERR, START, ERR}, {ERR, ERR, ERR, START, ERR},
    };
    int state = START;
    for (; *text; text++) {
        int cls = classify(*text);
        if (cls == 3)
            counts[state]++;
        state = next[state][cls];
    }
    counts[state]++;
}

int main(int argc, char **argv)
{
    long iterations = bench_size(argc, argv, 300);
    enum { NODES = 64 };
    static struct node pool[NODES];
    uint64_t seed = 7;
    for (int i = 0; i < NODES; i++) {
        pool[i].key = (int32_t)(bench_rand(&seed) % 1000);
        pool[i].value = i;
        pool[i].next = i + 1 < NODES ? &pool[i + 1] : NULL;
    }
    struct node *list = pool;
    char text[256], copy[256];
    uint32_t counts[NSTATES] = {0};
    uint16_t crc = 0xFFFF;
    uint64_t acc = 0;
    for (long it = 0; it < iterations; it++) {
        int len = 0;
        for (int k = 0; k < 16; k++) {  /* at most 15 characters each */
            uint64_t r = bench_rand(&seed);
            len += decimal(text + len, (uint32_t)(r >> 8) % 1000);
            if (r & 1) {
                text[len++] = '.';
                len += decimal(text + len, (uint32_t)(r >> 20) % 100);
                text[len++] = 'e';
                len += decimal(text + len, (uint32_t)(r >> 30) % 10);
            }
            text[len++] = ',';
        }
        text[len] = 0;
        state_machine(text, counts);
        strcpy(copy, text);
        acc += (uint64_t)strcmp(copy, text) + strlen(copy);
        for (int i = 0; i < len; i++)
            crc = crc16(crc, (uint8_t)text[i]);
        for (int q = 0; q < 8; q++)
            acc += (uint32_t)find(list, (int32_t)((it * 8 + q) % 1000));
        list = reverse(list);
        acc = acc * 33 + crc;
    }
    for (int s = 0; s < NSTATES; s++)
        acc = acc * 131 + counts[s];
    bench_result("intmix", iterations, acc);
    return 0;
}
