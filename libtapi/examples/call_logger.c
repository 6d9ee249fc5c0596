/*
 * call_logger.c - one CSV line per call, on every line device.
 *
 *     call_logger [-n CALLS] [-t SECONDS]
 *
 * Initializes TAPI with LINEINITIALIZEEXOPTION_USEEVENT, opens every line device as a
 * MONITOR, waits on the event with poll() and drains it with lineGetMessage.  When a call
 * goes IDLE it reads its LINECALLINFO (two-pass dwNeededSize loop), prints one CSV line and
 * deallocates the call handle.  Stops after CALLS calls, after SECONDS, or when every line
 * is closed.  Header:
 *
 *     time,line,call_id,direction,caller,caller_name,called,connected,duration_s,disconnect
 *
 * Build: cc call_logger.c -I libtapi/include -L target/release -ltapi -o call_logger
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tapi.h>

#define TAPI_VERSION_1_4 0x00010004
#define TAPI_VERSION_2_2 0x00020002
#define MAX_LINES 64
#define MAX_CALLS 256

struct Call {
    HCALL hCall;
    DWORD dwDevice;
    double connectedAt;
    double endedAt;
    DWORD dwDisconnectMode;
};

static struct Call g_calls[MAX_CALLS];
static int g_openLines;
static int g_logged;

static double Now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct Call *FindCall(HCALL hCall, int create)
{
    struct Call *free_slot = NULL;
    for (int i = 0; i < MAX_CALLS; i++) {
        if (g_calls[i].hCall == hCall)
            return &g_calls[i];
        if (g_calls[i].hCall == 0 && free_slot == NULL)
            free_slot = &g_calls[i];
    }
    if (!create || free_slot == NULL)
        return NULL;
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->hCall = hCall;
    return free_slot;
}

static const char *DisconnectModeName(DWORD mode)
{
    switch (mode) {
    case 0: return "";
    case LINEDISCONNECTMODE_NORMAL: return "NORMAL";
    case LINEDISCONNECTMODE_REJECT: return "REJECT";
    case LINEDISCONNECTMODE_BUSY: return "BUSY";
    case LINEDISCONNECTMODE_NOANSWER: return "NOANSWER";
    case LINEDISCONNECTMODE_BADADDRESS: return "BADADDRESS";
    case LINEDISCONNECTMODE_UNREACHABLE: return "UNREACHABLE";
    case LINEDISCONNECTMODE_CONGESTION: return "CONGESTION";
    case LINEDISCONNECTMODE_INCOMPATIBLE: return "INCOMPATIBLE";
    case LINEDISCONNECTMODE_FORWARDED: return "FORWARDED";
    case LINEDISCONNECTMODE_TEMPFAILURE: return "TEMPFAILURE";
    default: return "OTHER";
    }
}

static const char *Direction(DWORD origin)
{
    if (origin & LINECALLORIGIN_OUTBOUND)
        return "outbound";
    if (origin & (LINECALLORIGIN_INBOUND | LINECALLORIGIN_EXTERNAL | LINECALLORIGIN_INTERNAL))
        return "inbound";
    return "unknown";
}

/* A string of a variable-size structure, or "" when it is absent. */
static const char *Field(const void *base, DWORD size, DWORD offset)
{
    return size > 0 ? (const char *)base + offset : "";
}

/* Prints s as a CSV field (quoted when it needs to be). */
static void Csv(const char *s, const char *sep)
{
    if (strpbrk(s, ",\"\n") == NULL) {
        printf("%s%s", s, sep);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    printf("\"%s", sep);
}

static LINECALLINFO *GetCallInfo(HCALL hCall)
{
    DWORD size = sizeof(LINECALLINFO) + 256;
    LINECALLINFO *info = NULL;
    for (;;) {
        LINECALLINFO *bigger = realloc(info, size);
        if (bigger == NULL)
            break;
        info = bigger;
        memset(info, 0, size);
        info->dwTotalSize = size;
        LONG r = lineGetCallInfo(hCall, info);
        if (r != 0) {
            fprintf(stderr, "lineGetCallInfo failed: 0x%08lX\n", (unsigned long)(DWORD)r);
            break;
        }
        if (info->dwNeededSize <= info->dwTotalSize)
            return info;
        size = info->dwNeededSize;
    }
    free(info);
    return NULL;
}

static void LogCall(struct Call *call)
{
    LINECALLINFO *info = GetCallInfo(call->hCall);
    if (info == NULL)
        return;
    char when[32];
    time_t t = time(NULL);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    printf("%s,%lu,%lu,%s,", when, (unsigned long)info->dwLineDeviceID,
           (unsigned long)info->dwCallID, Direction(info->dwOrigin));
    Csv(Field(info, info->dwCallerIDSize, info->dwCallerIDOffset), ",");
    Csv(Field(info, info->dwCallerIDNameSize, info->dwCallerIDNameOffset), ",");
    Csv(Field(info, info->dwCalledIDSize, info->dwCalledIDOffset), ",");
    double talk = call->connectedAt > 0 ? call->endedAt - call->connectedAt : 0;
    printf("%s,%.1f,%s\n", call->connectedAt > 0 ? "yes" : "no", talk,
           DisconnectModeName(call->dwDisconnectMode));
    fflush(stdout);
    free(info);
    g_logged++;
}

static void OnMessage(const LINEMESSAGE *m)
{
    struct Call *call;
    switch (m->dwMessageID) {
    case LINE_APPNEWCALL:
        call = FindCall((HCALL)m->dwParam2, 1);
        if (call != NULL)
            call->dwDevice = (DWORD)m->dwCallbackInstance;
        break;
    case LINE_CALLSTATE:
        call = FindCall(m->hDevice, 1);
        if (call == NULL)
            break;
        if (m->dwParam1 == LINECALLSTATE_CONNECTED && call->connectedAt == 0)
            call->connectedAt = Now();
        if (m->dwParam1 == LINECALLSTATE_DISCONNECTED) {
            call->dwDisconnectMode = (DWORD)m->dwParam2;
            call->endedAt = Now();
        }
        if (m->dwParam1 == LINECALLSTATE_IDLE) {
            if (call->endedAt == 0)
                call->endedAt = Now();
            LogCall(call);
            lineDeallocateCall(call->hCall);
            call->hCall = 0;
        }
        break;
    case LINE_CLOSE:
        g_openLines--;
        break;
    default:
        break;
    }
}

int main(int argc, char **argv)
{
    int maxCalls = 0, seconds = 0, opt;
    while ((opt = getopt(argc, argv, "n:t:")) != -1) {
        if (opt == 'n')
            maxCalls = atoi(optarg);
        else if (opt == 't')
            seconds = atoi(optarg);
        else {
            fprintf(stderr, "usage: %s [-n CALLS] [-t SECONDS]\n", argv[0]);
            return 1;
        }
    }

    HLINEAPP hLineApp;
    DWORD dwNumDevs, dwAPIVersion = TAPI_VERSION_2_2;
    LINEINITIALIZEEXPARAMS params;
    memset(&params, 0, sizeof(params));
    params.dwTotalSize = sizeof(params);
    params.dwOptions = LINEINITIALIZEEXOPTION_USEEVENT;
    LONG r = lineInitializeEx(&hLineApp, NULL, NULL, "call_logger", &dwNumDevs,
                              &dwAPIVersion, &params);
    if (r != 0) {
        fprintf(stderr, "lineInitializeEx failed: 0x%08lX\n", (unsigned long)(DWORD)r);
        return 1;
    }
    int fd = TAPI_EVENT_FD(params.Handles.hEvent);

    HLINE hLines[MAX_LINES];
    for (DWORD dev = 0; dev < dwNumDevs && dev < MAX_LINES; dev++) {
        DWORD version;
        LINEEXTENSIONID ext;
        r = lineNegotiateAPIVersion(hLineApp, dev, TAPI_VERSION_1_4, TAPI_VERSION_2_2,
                                    &version, &ext);
        if (r == 0)
            r = lineOpen(hLineApp, dev, &hLines[dev], version, 0, dev,
                         LINECALLPRIVILEGE_MONITOR, LINEMEDIAMODE_INTERACTIVEVOICE, NULL);
        if (r != 0) {
            fprintf(stderr, "line %lu: 0x%08lX\n", (unsigned long)dev, (unsigned long)(DWORD)r);
            continue;
        }
        g_openLines++;
    }
    if (g_openLines == 0) {
        lineShutdown(hLineApp);
        return 1;
    }
    fprintf(stderr, "monitoring %d line(s)\n", g_openLines);
    printf("time,line,call_id,direction,caller,caller_name,called,connected,duration_s,disconnect\n");
    fflush(stdout);

    double stopAt = seconds > 0 ? Now() + seconds : 0;
    while (g_openLines > 0 && (maxCalls == 0 || g_logged < maxCalls)) {
        if (stopAt > 0 && Now() >= stopAt)
            break;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 200) <= 0)
            continue;
        LINEMESSAGE msg;
        while (lineGetMessage(hLineApp, &msg, 0) == 0)
            OnMessage(&msg);
    }
    lineShutdown(hLineApp);
    return 0;
}
