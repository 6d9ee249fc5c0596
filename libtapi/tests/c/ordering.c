/*
 * ordering.c - the ordering gate. A fake gateway answers each lineMakeCall and sends its
 * LINE_REPLY in the same TCP segment; the application must still see lineMakeCall return
 * (with *lphCall written) before the LINE_REPLY reaches it: in callback mode, and in event
 * mode with another thread blocked in lineGetMessage. The LINE_REPLY callback itself calls
 * lineGetCallStatus (a TAPI call from inside a callback must not deadlock).
 *
 * To make the race real, the process runs on one CPU and the thread calling lineMakeCall
 * runs at SCHED_IDLE: once the answer and the reply have arrived, the library's threads run
 * before the caller gets the CPU back, so without the gate the reply would come first.
 *
 *     ordering ROUNDS
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tapi.h>

#include "check.h"

static HCALL g_hCall;                /* written by lineMakeCall through lphCall */
static atomic_long g_request;        /* stored by the caller once lineMakeCall returned */
static atomic_int g_replies, g_early, g_wrongId, g_statusFailed;

static void CheckReply(DWORD_PTR requestId, HCALL hCallWhenSeen)
{
    if (hCallWhenSeen == 0)
        atomic_fetch_add(&g_early, 1); /* LINE_REPLY before *lphCall was written */
    for (int i = 0; i < 1000 && atomic_load(&g_request) != (long)requestId; i++)
        usleep(1000);
    if (atomic_load(&g_request) != (long)requestId)
        atomic_fetch_add(&g_wrongId, 1);
    atomic_fetch_add(&g_replies, 1);
}

static void CALLBACK Callback(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance,
                              DWORD_PTR dwParam1, DWORD_PTR dwParam2, DWORD_PTR dwParam3)
{
    (void)hDevice; (void)dwInstance; (void)dwParam2; (void)dwParam3;
    if (dwMessage != LINE_REPLY)
        return;
    HCALL seen = *(volatile HCALL *)&g_hCall;
    LINECALLSTATUS status;
    memset(&status, 0, sizeof(status));
    status.dwTotalSize = sizeof(status);
    if (lineGetCallStatus(seen, &status) != 0 || status.dwCallState != LINECALLSTATE_DIALING)
        atomic_fetch_add(&g_statusFailed, 1);
    CheckReply(dwParam1, seen);
}

static HLINEAPP g_eventApp;

static void *EventReader(void *arg)
{
    int rounds = *(int *)arg;
    for (int got = 0; got < rounds;) {
        LINEMESSAGE m;
        if (lineGetMessage(g_eventApp, &m, 10000) != 0)
            break;
        if (m.dwMessageID == LINE_REPLY) {
            CheckReply(m.dwParam1, *(volatile HCALL *)&g_hCall);
            got++;
        }
    }
    return NULL;
}

/* The calling thread runs only when no other thread of the process can (or normally again). */
static void Idle(int idle)
{
    struct sched_param param = { .sched_priority = 0 };
    pthread_setschedparam(pthread_self(), idle ? SCHED_IDLE : SCHED_OTHER, &param);
}

/* The whole process on the first CPU it may use (threads inherit this). */
static void OneCpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            sched_setaffinity(0, sizeof(set), &set);
            return;
        }
    }
}

static int Rounds(HLINEAPP h, int rounds, const char *mode)
{
    HLINE hLine;
    EXPECT("lineOpen", lineOpen(h, 0, &hLine, 0x00020002, 0, 0, LINECALLPRIVILEGE_OWNER,
                                LINEMEDIAMODE_INTERACTIVEVOICE, NULL), 0);
    Idle(1);
    for (int i = 0; i < rounds; i++) {
        int before = atomic_load(&g_replies);
        g_hCall = 0;
        atomic_store(&g_request, 0);
        LONG r = lineMakeCall(hLine, &g_hCall, "100", 0, NULL);
        atomic_store(&g_request, r);
        if (r <= 0) {
            printf("FAIL lineMakeCall %s: 0x%08lX\n", mode, (unsigned long)(DWORD)r);
            Idle(0);
            return 1;
        }
        for (int w = 0; w < 5000 && atomic_load(&g_replies) == before; w++)
            usleep(1000);
    }
    Idle(0);
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 50;
    OneCpu();
    DWORD devs, version = 0x00020002;
    LINEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);

    HLINEAPP h;
    p.dwOptions = LINEINITIALIZEEXOPTION_USEHIDDENWINDOW;
    EXPECT("lineInitializeEx (callback)", lineInitializeEx(&h, NULL, Callback, "ordering", &devs, &version, &p), 0);
    g_failures += Rounds(h, rounds, "callback");
    EXPECT("callback replies", atomic_load(&g_replies), rounds);
    EXPECT("callback replies before lphCall was written", atomic_load(&g_early), 0);
    EXPECT("callback replies with another request ID", atomic_load(&g_wrongId), 0);
    EXPECT("lineGetCallStatus inside the callback", atomic_load(&g_statusFailed), 0);
    EXPECT("lineShutdown", lineShutdown(h), 0);

    atomic_store(&g_replies, 0);
    p.dwOptions = LINEINITIALIZEEXOPTION_USEEVENT;
    EXPECT("lineInitializeEx (event)", lineInitializeEx(&g_eventApp, NULL, NULL, "ordering", &devs, &version, &p), 0);
    pthread_t reader;
    pthread_create(&reader, NULL, EventReader, &rounds);
    g_failures += Rounds(g_eventApp, rounds, "event");
    pthread_join(reader, NULL);
    EXPECT("event replies", atomic_load(&g_replies), rounds);
    EXPECT("event replies before lphCall was written", atomic_load(&g_early), 0);
    EXPECT("event replies with another request ID", atomic_load(&g_wrongId), 0);
    EXPECT("lineShutdown", lineShutdown(g_eventApp), 0);
    printf("%d failures\n", g_failures);
    return g_failures != 0;
}
