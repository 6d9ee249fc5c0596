/*
 * msgprint.c - a callback-mode application that prints what it sees, for the tests against a
 * fake gateway (sessions, wire errors): opens line 0 with a pointer as dwCallbackInstance,
 * makes a call, prints every message, asks lineGetCallStatus once the call is CONNECTED and
 * stops at IDLE or LINE_CLOSE; then tries lineHold and shuts down.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapi.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_done, g_connected;
static HCALL g_hCall;
static int g_instance_marker;

static const char *Name(DWORD id)
{
    switch (id) {
    case LINE_REPLY: return "LINE_REPLY";
    case LINE_CALLSTATE: return "LINE_CALLSTATE";
    case LINE_CLOSE: return "LINE_CLOSE";
    case LINE_APPNEWCALL: return "LINE_APPNEWCALL";
    default: return "OTHER";
    }
}

static void CALLBACK Callback(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance,
                              DWORD_PTR dwParam1, DWORD_PTR dwParam2, DWORD_PTR dwParam3)
{
    (void)dwParam3;
    pthread_mutex_lock(&g_lock);
    printf("MSG %s %lu %lu %ld %s\n", Name(dwMessage), (unsigned long)hDevice,
           (unsigned long)dwParam1, (long)(LONG)dwParam2,
           dwMessage == LINE_REPLY ? "-" :
           dwInstance == (DWORD_PTR)&g_instance_marker ? "instance-ok" : "instance-bad");
    if (dwMessage == LINE_CALLSTATE && dwParam1 == LINECALLSTATE_CONNECTED)
        g_connected = 1;
    if ((dwMessage == LINE_CALLSTATE && dwParam1 == LINECALLSTATE_IDLE) || dwMessage == LINE_CLOSE)
        g_done = 1;
    fflush(stdout);
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
}

/* Waits (g_lock held) until *flag or g_done, at most 20 s. */
static void Wait(const int *flag)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += 20;
    while (!*flag && !g_done && pthread_cond_timedwait(&g_cond, &g_lock, &t) == 0)
        ;
}

int main(void)
{
    HLINEAPP h = 0;
    DWORD devs = 0, version = 0x00020002;
    LINEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    p.dwOptions = LINEINITIALIZEEXOPTION_USEHIDDENWINDOW;
    LONG r = lineInitializeEx(&h, NULL, Callback, "msgprint", &devs, &version, &p);
    printf("INIT 0x%08lX %lu\n", (unsigned long)(DWORD)r, (unsigned long)h);
    fflush(stdout);
    if (r != 0)
        return 1;
    HLINE hLine = 0;
    r = lineOpen(h, 0, &hLine, version, 0, (DWORD_PTR)&g_instance_marker,
                 LINECALLPRIVILEGE_OWNER, LINEMEDIAMODE_INTERACTIVEVOICE, NULL);
    printf("OPEN 0x%08lX %lu\n", (unsigned long)(DWORD)r, (unsigned long)hLine);
    pthread_mutex_lock(&g_lock);
    r = lineMakeCall(hLine, &g_hCall, "100", 0, NULL);
    printf("MAKECALL %ld %lu\n", (long)r, (unsigned long)g_hCall);
    fflush(stdout);
    if (r > 0)
        Wait(&g_connected);
    if (g_connected) {
        LINECALLSTATUS status;
        memset(&status, 0, sizeof(status));
        status.dwTotalSize = sizeof(status);
        pthread_mutex_unlock(&g_lock);
        r = lineGetCallStatus(g_hCall, &status);
        pthread_mutex_lock(&g_lock);
        printf("STATUS 0x%08lX 0x%lX\n", (unsigned long)(DWORD)r, (unsigned long)status.dwCallState);
        fflush(stdout);
    }
    if (r > 0)
        Wait(&g_done);
    pthread_mutex_unlock(&g_lock);
    r = lineHold(g_hCall);
    printf("HOLD 0x%08lX\n", (unsigned long)(DWORD)r);
    r = lineShutdown(h);
    printf("SHUTDOWN 0x%08lX\n", (unsigned long)(DWORD)r);
    return 0;
}
