/*
 * dialer.c - place one call with TAPI, print its states, hang up.
 *
 *     dialer NUMBER [SECONDS] [DEVICE]
 *
 * Initializes TAPI with a LINECALLBACK, negotiates the API version, reads the line's
 * LINEDEVCAPS (two-pass dwNeededSize loop), opens the line, makes the call and prints every
 * LINE_CALLSTATE by name.  It hangs up with lineDrop SECONDS (default 5) after the call is
 * connected, or stops when the far end hangs up.  Exit status: 0 the call was connected,
 * 2 it was not, 1 a TAPI function failed.
 *
 * Build: cc dialer.c -I libtapi/include -L target/release -ltapi -lpthread -o dialer
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tapi.h>

#define TAPI_VERSION_1_4 0x00010004
#define TAPI_VERSION_2_2 0x00020002
#define REPLY_TIMEOUT_S 20

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_changed = PTHREAD_COND_INITIALIZER;

/* Shared with the callback thread, under g_lock. */
static LONG g_makeCallRequest;
static LONG g_dropRequest;
static HCALL g_hCall;
static int g_makeCallReplied;
static LONG g_makeCallResult;
static int g_dropReplied;
static DWORD g_callState;
static int g_wasConnected;
static int g_lineClosed;

static const char *CallStateName(DWORD state)
{
    switch (state) {
    case LINECALLSTATE_IDLE: return "IDLE";
    case LINECALLSTATE_OFFERING: return "OFFERING";
    case LINECALLSTATE_ACCEPTED: return "ACCEPTED";
    case LINECALLSTATE_DIALTONE: return "DIALTONE";
    case LINECALLSTATE_DIALING: return "DIALING";
    case LINECALLSTATE_RINGBACK: return "RINGBACK";
    case LINECALLSTATE_BUSY: return "BUSY";
    case LINECALLSTATE_SPECIALINFO: return "SPECIALINFO";
    case LINECALLSTATE_CONNECTED: return "CONNECTED";
    case LINECALLSTATE_PROCEEDING: return "PROCEEDING";
    case LINECALLSTATE_ONHOLD: return "ONHOLD";
    case LINECALLSTATE_CONFERENCED: return "CONFERENCED";
    case LINECALLSTATE_ONHOLDPENDCONF: return "ONHOLDPENDCONF";
    case LINECALLSTATE_ONHOLDPENDTRANSFER: return "ONHOLDPENDTRANSFER";
    case LINECALLSTATE_DISCONNECTED: return "DISCONNECTED";
    case LINECALLSTATE_UNKNOWN: return "UNKNOWN";
    default: return "?";
    }
}

static const char *DisconnectModeName(DWORD mode)
{
    switch (mode) {
    case LINEDISCONNECTMODE_NORMAL: return "NORMAL";
    case LINEDISCONNECTMODE_UNKNOWN: return "UNKNOWN";
    case LINEDISCONNECTMODE_REJECT: return "REJECT";
    case LINEDISCONNECTMODE_BUSY: return "BUSY";
    case LINEDISCONNECTMODE_NOANSWER: return "NOANSWER";
    case LINEDISCONNECTMODE_BADADDRESS: return "BADADDRESS";
    case LINEDISCONNECTMODE_UNREACHABLE: return "UNREACHABLE";
    case LINEDISCONNECTMODE_CONGESTION: return "CONGESTION";
    case LINEDISCONNECTMODE_INCOMPATIBLE: return "INCOMPATIBLE";
    case LINEDISCONNECTMODE_TEMPFAILURE: return "TEMPFAILURE";
    case LINEDISCONNECTMODE_BLOCKED: return "BLOCKED";
    case LINEDISCONNECTMODE_OUTOFORDER: return "OUTOFORDER";
    case LINEDISCONNECTMODE_NUMBERCHANGED: return "NUMBERCHANGED";
    default: return "OTHER";
    }
}

static void CALLBACK LineCallback(DWORD hDevice, DWORD dwMessage, DWORD_PTR dwInstance,
                                  DWORD_PTR dwParam1, DWORD_PTR dwParam2, DWORD_PTR dwParam3)
{
    (void)dwInstance;
    (void)dwParam3;
    pthread_mutex_lock(&g_lock);
    switch (dwMessage) {
    case LINE_REPLY:
        printf("LINE_REPLY request %ld result 0x%08lX\n", (long)dwParam1,
               (unsigned long)(DWORD)dwParam2);
        if ((LONG)dwParam1 == g_makeCallRequest) {
            g_makeCallResult = (LONG)dwParam2;
            g_makeCallReplied = 1;
        } else if ((LONG)dwParam1 == g_dropRequest) {
            g_dropReplied = 1;
        }
        break;
    case LINE_CALLSTATE:
        if (dwParam1 == LINECALLSTATE_DISCONNECTED)
            printf("LINE_CALLSTATE %s %s\n", CallStateName((DWORD)dwParam1),
                   DisconnectModeName((DWORD)dwParam2));
        else
            printf("LINE_CALLSTATE %s\n", CallStateName((DWORD)dwParam1));
        if (hDevice == g_hCall) {
            g_callState = (DWORD)dwParam1;
            if (g_callState == LINECALLSTATE_CONNECTED)
                g_wasConnected = 1;
        }
        break;
    case LINE_CLOSE:
        printf("LINE_CLOSE\n");
        g_lineClosed = 1;
        break;
    default:
        break;
    }
    fflush(stdout);
    pthread_cond_broadcast(&g_changed);
    pthread_mutex_unlock(&g_lock);
}

/* Waits (g_lock held) until *flag is set or the deadline passes; 0 on time-out. */
static int WaitFor(volatile int *flag, const struct timespec *deadline)
{
    while (!*flag) {
        if (pthread_cond_timedwait(&g_changed, &g_lock, deadline) == ETIMEDOUT)
            return *flag;
    }
    return 1;
}

static struct timespec SecondsFromNow(int seconds)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += seconds;
    return t;
}

static int Fail(const char *function, LONG result)
{
    fprintf(stderr, "%s failed: 0x%08lX\n", function, (unsigned long)(DWORD)result);
    return 1;
}

/* lineGetDevCaps the TAPI way: grow the buffer to dwNeededSize and ask again. */
static LINEDEVCAPS *GetDevCaps(HLINEAPP hLineApp, DWORD dwDeviceID, DWORD dwAPIVersion)
{
    DWORD size = sizeof(LINEDEVCAPS);
    LINEDEVCAPS *caps = NULL;
    for (;;) {
        LINEDEVCAPS *bigger = realloc(caps, size);
        if (bigger == NULL) {
            free(caps);
            return NULL;
        }
        caps = bigger;
        memset(caps, 0, size);
        caps->dwTotalSize = size;
        LONG r = lineGetDevCaps(hLineApp, dwDeviceID, dwAPIVersion, 0, caps);
        if (r != 0) {
            Fail("lineGetDevCaps", r);
            free(caps);
            return NULL;
        }
        if (caps->dwNeededSize <= caps->dwTotalSize)
            return caps;
        size = caps->dwNeededSize;
    }
}

static int IsOver(void)
{
    return g_callState == LINECALLSTATE_IDLE || g_lineClosed;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s NUMBER [SECONDS] [DEVICE]\n", argv[0]);
        return 1;
    }
    const char *number = argv[1];
    int seconds = argc > 2 ? atoi(argv[2]) : 5;
    DWORD dwDeviceID = argc > 3 ? (DWORD)atoi(argv[3]) : 0;

    HLINEAPP hLineApp = 0;
    DWORD dwNumDevs = 0;
    DWORD dwAPIVersion = TAPI_VERSION_2_2;
    LINEINITIALIZEEXPARAMS params;
    memset(&params, 0, sizeof(params));
    params.dwTotalSize = sizeof(params);
    params.dwOptions = LINEINITIALIZEEXOPTION_USEHIDDENWINDOW;
    LONG r = lineInitializeEx(&hLineApp, NULL, LineCallback, "dialer", &dwNumDevs,
                              &dwAPIVersion, &params);
    if (r != 0)
        return Fail("lineInitializeEx", r);
    printf("%lu line device(s)\n", (unsigned long)dwNumDevs);
    if (dwDeviceID >= dwNumDevs) {
        fprintf(stderr, "no line device %lu\n", (unsigned long)dwDeviceID);
        lineShutdown(hLineApp);
        return 1;
    }

    LINEEXTENSIONID extensionID;
    r = lineNegotiateAPIVersion(hLineApp, dwDeviceID, TAPI_VERSION_1_4, TAPI_VERSION_2_2,
                                &dwAPIVersion, &extensionID);
    if (r != 0)
        return Fail("lineNegotiateAPIVersion", r);

    LINEDEVCAPS *caps = GetDevCaps(hLineApp, dwDeviceID, dwAPIVersion);
    if (caps == NULL)
        return 1;
    if (caps->dwLineNameSize > 0)
        printf("line %lu: %s\n", (unsigned long)dwDeviceID,
               (const char *)caps + caps->dwLineNameOffset);
    free(caps);

    HLINE hLine = 0;
    r = lineOpen(hLineApp, dwDeviceID, &hLine, dwAPIVersion, 0, 0,
                 LINECALLPRIVILEGE_NONE, LINEMEDIAMODE_INTERACTIVEVOICE, NULL);
    if (r != 0)
        return Fail("lineOpen", r);

    printf("dialing %s\n", number);
    fflush(stdout);
    pthread_mutex_lock(&g_lock);
    g_makeCallRequest = lineMakeCall(hLine, &g_hCall, number, 0, NULL);
    if (g_makeCallRequest < 0) {
        pthread_mutex_unlock(&g_lock);
        return Fail("lineMakeCall", g_makeCallRequest);
    }
    struct timespec deadline = SecondsFromNow(REPLY_TIMEOUT_S);
    if (!WaitFor(&g_makeCallReplied, &deadline) || g_makeCallResult != 0) {
        pthread_mutex_unlock(&g_lock);
        fprintf(stderr, "the call was not placed\n");
        lineShutdown(hLineApp);
        return 2;
    }

    /* Wait for the far end to hang up, or for SECONDS of conversation. */
    deadline = SecondsFromNow(60);
    while (!IsOver() && !g_wasConnected) {
        if (pthread_cond_timedwait(&g_changed, &g_lock, &deadline) == ETIMEDOUT)
            break;
    }
    if (g_wasConnected) {
        deadline = SecondsFromNow(seconds);
        while (!IsOver() && g_callState != LINECALLSTATE_DISCONNECTED) {
            if (pthread_cond_timedwait(&g_changed, &g_lock, &deadline) == ETIMEDOUT)
                break;
        }
    }
    /* The gateway takes a DISCONNECTED call to IDLE by itself; give it a moment. */
    deadline = SecondsFromNow(g_callState == LINECALLSTATE_DISCONNECTED ? 2 : 0);
    while (!IsOver()) {
        if (pthread_cond_timedwait(&g_changed, &g_lock, &deadline) == ETIMEDOUT)
            break;
    }
    if (!IsOver()) {
        printf("hanging up\n");
        fflush(stdout);
        g_dropRequest = lineDrop(g_hCall, NULL, 0);
        if (g_dropRequest < 0) {
            pthread_mutex_unlock(&g_lock);
            return Fail("lineDrop", g_dropRequest);
        }
        deadline = SecondsFromNow(REPLY_TIMEOUT_S);
        WaitFor(&g_dropReplied, &deadline);
        while (!IsOver()) {
            if (pthread_cond_timedwait(&g_changed, &g_lock, &deadline) == ETIMEDOUT)
                break;
        }
    }
    int connected = g_wasConnected;
    pthread_mutex_unlock(&g_lock);

    lineDeallocateCall(g_hCall);
    lineClose(hLine);
    r = lineShutdown(hLineApp);
    if (r != 0)
        return Fail("lineShutdown", r);
    printf("done: %s\n", connected ? "connected" : "not connected");
    return connected ? 0 : 2;
}
