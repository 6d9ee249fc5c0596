/*
 * resume.c - a callback-mode application whose connection the test cuts while its call is
 * being set up (tests/sessions.rs). It prints every message it is given (MSG name hDevice
 * dwParam1 dwParam2), then:
 *   resume DEST drop   drops the call once it is CONNECTED and ends at its IDLE;
 *   resume DEST close  waits for LINE_CLOSE (the session was lost for good).
 * Exit 0 when it got what it waited for within 40 s, 2 otherwise.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapi.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_connected, g_idle, g_closed;

static const char *Name(DWORD id)
{
    switch (id) {
    case LINE_REPLY: return "LINE_REPLY";
    case LINE_CALLSTATE: return "LINE_CALLSTATE";
    case LINE_CALLINFO: return "LINE_CALLINFO";
    case LINE_CLOSE: return "LINE_CLOSE";
    default: return "OTHER";
    }
}

static void CALLBACK Callback(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance,
                              DWORD_PTR dwParam1, DWORD_PTR dwParam2, DWORD_PTR dwParam3)
{
    (void)dwInstance;
    (void)dwParam3;
    pthread_mutex_lock(&g_lock);
    printf("MSG %s %lu %lu %ld\n", Name(dwMessage), (unsigned long)hDevice,
           (unsigned long)dwParam1, dwMessage == LINE_REPLY ? (long)(LONG)dwParam2 : 0L);
    fflush(stdout);
    if (dwMessage == LINE_CALLSTATE && dwParam1 == LINECALLSTATE_CONNECTED)
        g_connected = 1;
    if (dwMessage == LINE_CALLSTATE && dwParam1 == LINECALLSTATE_IDLE)
        g_idle = 1;
    if (dwMessage == LINE_CLOSE)
        g_closed = 1;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

/* Waits (g_lock held) until *flag, at most 40 s; returns *flag. */
static int Wait(const int *flag)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += 40;
    while (!*flag && pthread_cond_timedwait(&g_cond, &g_lock, &t) == 0)
        ;
    return *flag;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: resume DEST drop|close\n");
        return 1;
    }
    int drop = strcmp(argv[2], "drop") == 0;
    HLINEAPP h = 0;
    DWORD devs = 0, version = 0x00020002;
    LINEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    p.dwOptions = LINEINITIALIZEEXOPTION_USEHIDDENWINDOW;
    LONG r = lineInitializeEx(&h, NULL, Callback, "resume", &devs, &version, &p);
    if (r != 0) {
        printf("INIT 0x%08lX\n", (unsigned long)(DWORD)r);
        return 1;
    }
    HLINE hLine = 0;
    r = lineOpen(h, 0, &hLine, version, 0, 0, LINECALLPRIVILEGE_OWNER,
                 LINEMEDIAMODE_INTERACTIVEVOICE, NULL);
    if (r != 0) {
        printf("OPEN 0x%08lX\n", (unsigned long)(DWORD)r);
        return 1;
    }
    HCALL hCall = 0;
    pthread_mutex_lock(&g_lock);
    r = lineMakeCall(hLine, &hCall, argv[1], 0, NULL);
    printf("MAKECALL %ld %lu\n", (long)r, (unsigned long)hCall);
    fflush(stdout);
    int ok;
    if (drop) {
        ok = r > 0 && Wait(&g_connected);
        pthread_mutex_unlock(&g_lock);
        if (ok) {
            r = lineDrop(hCall, NULL, 0);
            printf("DROP %ld\n", (long)r);
            fflush(stdout);
            pthread_mutex_lock(&g_lock);
            ok = r > 0 && Wait(&g_idle);
            pthread_mutex_unlock(&g_lock);
        }
    } else {
        ok = r > 0 && Wait(&g_closed);
        pthread_mutex_unlock(&g_lock);
    }
    r = lineShutdown(h);
    printf("SHUTDOWN 0x%08lX\n", (unsigned long)(DWORD)r);
    return ok ? 0 : 2;
}
