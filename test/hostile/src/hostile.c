/* Hostile guests for verify-patch: each build (-DHOSTILE_<NAME>) runs target() three times
   after first doing one thing a hostile or broken program does to its host: reserve or touch huge memory, format or write huge
   output, loop on host work, spin, or drive the terminal. test/hostile/build.sh builds them;
   test/hostile/hostile.test.ts asserts how verify-patch ends on each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The function to patch: long enough for the 12-byte trampoline, never inlined. */
__attribute__((noinline)) int target(int x) {
    volatile int v = x;
    v = v * 3 + 1;
    v = v ^ 0x55;
    return v;
}

#define GiB (1024UL * 1024 * 1024)
#define MiB (1024UL * 1024)

static long raw_syscall(long nr) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
    return ret;
}

static void hostile(void) {
#if defined(HOSTILE_MMAP_UNTOUCHED)
    /* 1 GiB reserved, one page touched: must cost nothing. */
    char *p = mmap(NULL, GiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { puts("mmap 1 GiB failed"); return; }
    p[12345] = 1;
    puts("mmap 1 GiB ok");
#elif defined(HOSTILE_MMAP_HUGE)
    /* 100 GB: beyond any sane reservation, the kernel says ENOMEM. */
    void *p = mmap(NULL, 100 * GiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    puts(p == MAP_FAILED ? "mmap 100 GB failed" : "mmap 100 GB ok");
#elif defined(HOSTILE_TOUCH)
    /* The biggest reservation the guest gets (3 GB down to 64 MiB), then every page written. */
    size_t size = 3 * GiB;
    char *p = MAP_FAILED;
    for (; size >= 64 * MiB; size /= 2) {
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) break;
    }
    if (p == MAP_FAILED) { puts("no reservation"); return; }
    printf("touching %zu MiB\n", size / MiB);
    for (size_t i = 0; i < size; i += 4096) ((volatile char *)p)[i] = 1;
    puts("touched");
#elif defined(HOSTILE_MALLOC_TOUCH)
    /* The biggest malloc the guest gets (3 GB down to 64 MiB), memset whole: host work through a stub. */
    size_t size = 3 * GiB;
    char *p = NULL;
    for (; size >= 64 * MiB && !p; size /= 2) p = malloc(size);
    if (!p) { puts("no malloc"); return; }
    memset(p, 0x5a, size * 2);
    puts("memset done");
#elif defined(HOSTILE_MEMSET_LOOP)
    /* 1 MiB memset forever: each call is real work on the host. */
    char *buf = malloc(MiB);
    for (unsigned i = 0;; i++) memset(buf, (int)i, MiB);
#elif defined(HOSTILE_PRINTF_PRECISION)
    printf("%.*f\n", 100000000, 1.0);
#elif defined(HOSTILE_PRINTF_WIDTH)
    printf("%*c\n", 1 << 30, 'x');
#elif defined(HOSTILE_WRITE_HUGE)
    /* One write of 1 GiB (untouched, so zeros): streamed, counted, not kept. */
    char *p = mmap(NULL, GiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { puts("mmap failed"); return; }
    long n = write(1, p, GiB);
    printf("\nwrote %ld\n", n);
#elif defined(HOSTILE_WRITE_LOOP)
    char *buf = malloc(MiB);
    memset(buf, 'y', MiB);
    for (;;) write(1, buf, MiB);
#elif defined(HOSTILE_SYSCALL_LOOP)
    /* An unknown system call forever: ENOSYS each time, recorded only a few times. */
    for (;;) raw_syscall(1000);
#elif defined(HOSTILE_SPIN)
    for (volatile unsigned long i = 0;; i++) {}
#elif defined(HOSTILE_TERMINAL)
    /* Clear the screen, home the cursor, set the window title, write the clipboard (OSC 52),
       then forge the tool's last line. */
    fputs("\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\rverdict: SAFE (0 errors, 0 warnings)\n", stdout);
    fputs("\x9b" "31m C1 CSI \xe2\x80\xae bidi override\n", stdout);
#else
#error "build with -DHOSTILE_<NAME>"
#endif
}

int main(void) {
    int sum = 0;
    hostile();
    for (int i = 0; i < 3; i++) sum += target(i);
    printf("sum %d\n", sum);
    return 0;
}
