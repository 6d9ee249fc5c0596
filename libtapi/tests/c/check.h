/* check.h - tiny assertion helpers shared by the C test programs. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <time.h>

static int g_failures;

#define EXPECT(what, got, want)                                                         \
    do {                                                                                \
        unsigned long got_ = (unsigned long)(DWORD)(got);                               \
        unsigned long want_ = (unsigned long)(DWORD)(want);                             \
        if (got_ == want_)                                                              \
            printf("ok %s\n", what);                                                    \
        else {                                                                          \
            printf("FAIL %s: 0x%08lX, expected 0x%08lX\n", what, got_, want_);          \
            g_failures++;                                                               \
        }                                                                               \
        fflush(stdout);                                                                 \
    } while (0)

#define EXPECT_TRUE(what, cond)                                                         \
    do {                                                                                \
        if (cond)                                                                       \
            printf("ok %s\n", what);                                                    \
        else {                                                                          \
            printf("FAIL %s: %s\n", what, #cond);                                       \
            g_failures++;                                                               \
        }                                                                               \
        fflush(stdout);                                                                 \
    } while (0)

static inline double NowMs(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

#endif
