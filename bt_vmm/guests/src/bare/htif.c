/* picolibc's stdout/stderr and _exit through HTIF (Spike, QEMU -M spike, bt-vmm).
 *
 * Console putchar is device 1, command 1; the host answers in fromhost, which
 * the guest acknowledges by clearing it before the next request.  Exit is
 * device 0, command 0 with the payload (code << 1) | 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define HTIF_CMD(dev, cmd, payload) (((uint64_t)(dev) << 56) | ((uint64_t)(cmd) << 48) | (payload))

/* Outside .data/.bss so crt0's copy and clear never touch them (a write of
 * 0 to tohost is itself a request); RAM starts zeroed on every host. */
volatile uint64_t tohost __attribute__((section(".preserve.htif"), aligned(64)));
volatile uint64_t fromhost __attribute__((section(".preserve.htif"), aligned(64)));

static void htif_request(uint64_t value)
{
    while (tohost)
        ;
    tohost = value;
}

static int htif_putc(char c, FILE *file)
{
    (void)file;
    htif_request(HTIF_CMD(1, 1, (uint8_t)c));
    while (!fromhost)
        ;
    fromhost = 0;
    return (uint8_t)c;
}

static FILE console = FDEV_SETUP_STREAM(htif_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdin = &console;
FILE *const stdout = &console;
FILE *const stderr = &console;

void _exit(int code)
{
    for (;;)
        htif_request(((uint64_t)code << 1) | 1);
}
