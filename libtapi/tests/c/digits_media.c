/*
 * digits_media.c - digits and media files on an inbound call from SIPp (uac_media_info.xml:
 * no telephone-event, so digits go both ways as SIP INFO): lineMonitorDigits and
 * lineGatherDigits see SIPp's digit 5 (the gather buffer holds it when LINE_GATHERDIGITS
 * arrives, and nothing past dwNumDigits is written; a gather replaced by a newer one ends
 * with CANCEL into its own buffer; a refused gather leaves the others alone), lineGenerateDigits("9") returns 0 and
 * ends with LINE_GENERATE(DONE); the tapigw extensions: a path leaving media.files_dir is
 * refused with LINEERR_INVALPARAM, FILE plays to LINE_REPLY(0), a missing file ends in
 * LINE_REPLY(LINEERR_OPERATIONFAILED), a 300 ms recording into REC ends with LINE_REPLY(0).
 *
 *     digits_media FILE REC
 */
#include <stdlib.h>
#include <string.h>

#include <tapi.h>

#include "check.h"

static HLINEAPP g_app;
static HCALL g_call;
static char g_digits[4], g_first[4];
static int g_cancelled, g_cancel_ok = -1;
static int g_gathered, g_generated, g_monitor_dtmf, g_monitor_end, g_connected, g_idle;
static int g_gather_ok = -1;
static LONG g_request;
static LONG g_reply = 1;

/* One message: remember what the test waits for. */
static void Handle(const LINEMESSAGE *m)
{
    printf("message %lu on %lu: %lu %lu\n", (unsigned long)m->dwMessageID,
           (unsigned long)m->hDevice, (unsigned long)m->dwParam1, (unsigned long)m->dwParam2);
    fflush(stdout);
    switch (m->dwMessageID) {
    case LINE_APPNEWCALL:
        g_call = (HCALL)m->dwParam2;
        break;
    case LINE_CALLSTATE:
        if (m->dwParam1 == LINECALLSTATE_CONNECTED)
            g_connected = 1;
        if (m->dwParam1 == LINECALLSTATE_IDLE)
            g_idle = 1;
        break;
    case LINE_REPLY:
        if ((LONG)m->dwParam1 == g_request)
            g_reply = (LONG)m->dwParam2;
        break;
    case LINE_MONITORDIGITS:
        if (m->dwParam1 == '5' && m->dwParam2 == LINEDIGITMODE_DTMF)
            g_monitor_dtmf = 1;
        if (m->dwParam1 == '5' && m->dwParam2 == LINEDIGITMODE_DTMFEND)
            g_monitor_end = 1;
        break;
    case LINE_GATHERDIGITS:
        if (m->dwParam1 == LINEGATHERTERM_CANCEL) {
            /* The first gather, replaced by the second before any digit: its own buffer. */
            g_cancelled = 1;
            g_cancel_ok = g_first[0] == '\0' && g_first[1] == 'x';
            break;
        }
        g_gathered = (int)m->dwParam1;
        /* Read at delivery: libtapi wrote the buffer before queueing the message. */
        g_gather_ok = g_digits[0] == '5' && g_digits[1] == 'x';
        break;
    case LINE_GENERATE:
        g_generated = (int)m->dwParam1;
        break;
    }
}

/* Pumps messages until *flag is set or 20 s pass; true when set. */
static int WaitFor(const int *flag)
{
    double deadline = NowMs() + 20000;
    while (!*flag && NowMs() < deadline) {
        LINEMESSAGE m;
        if (lineGetMessage(g_app, &m, 200) == 0)
            Handle(&m);
    }
    return *flag != 0;
}

/* Waits for the LINE_REPLY of `request`; its result. */
static LONG Reply(LONG request)
{
    g_request = request;
    g_reply = 1;
    double deadline = NowMs() + 20000;
    while (g_reply == 1 && NowMs() < deadline) {
        LINEMESSAGE m;
        if (lineGetMessage(g_app, &m, 200) == 0)
            Handle(&m);
    }
    return g_reply;
}

static void Digits(void)
{
    EXPECT("lineMonitorDigits", lineMonitorDigits(g_call, LINEDIGITMODE_DTMF | LINEDIGITMODE_DTMFEND), 0);
    memset(g_digits, 'x', sizeof(g_digits));
    memset(g_first, 'x', sizeof(g_first));
    EXPECT("lineGatherDigits (to be replaced)", lineGatherDigits(g_call, LINEDIGITMODE_DTMF, g_first, 4, "", 0, 0), 0);
    EXPECT("lineGatherDigits(bad mode)", lineGatherDigits(g_call, LINEDIGITMODE_PULSE, g_digits, 1, "", 0, 0),
           LINEERR_INVALDIGITMODE);
    EXPECT("lineGatherDigits", lineGatherDigits(g_call, LINEDIGITMODE_DTMF, g_digits, 1, "#", 15000, 0), 0);
    EXPECT_TRUE("LINE_GATHERDIGITS(CANCEL) of the replaced gather", WaitFor(&g_cancelled));
    EXPECT_TRUE("it emptied its own buffer, not the newer one", g_cancel_ok == 1);
    EXPECT("lineGenerateDigits", lineGenerateDigits(g_call, LINEDIGITMODE_DTMF, "9", 80), 0);
    EXPECT_TRUE("LINE_GENERATE", WaitFor(&g_generated));
    EXPECT("LINE_GENERATE DONE", g_generated, LINEGENERATETERM_DONE);
    EXPECT_TRUE("LINE_GATHERDIGITS", WaitFor(&g_gathered));
    EXPECT("LINE_GATHERDIGITS BUFFERFULL", g_gathered, LINEGATHERTERM_BUFFERFULL);
    EXPECT_TRUE("the buffer holds 5 (and nothing past dwNumDigits) at LINE_GATHERDIGITS", g_gather_ok == 1);
    EXPECT_TRUE("LINE_MONITORDIGITS 5 DTMF", WaitFor(&g_monitor_dtmf));
    EXPECT_TRUE("LINE_MONITORDIGITS 5 DTMFEND", WaitFor(&g_monitor_end));
}

static void Media(const char *file, const char *rec)
{
    EXPECT("tapigwMediaPlay outside files_dir", tapigwMediaPlay(g_call, "../outside.wav", 0), LINEERR_INVALPARAM);
    EXPECT("tapigwMediaPlay NULL", tapigwMediaPlay(g_call, NULL, 0), LINEERR_INVALPOINTER);
    LONG play = tapigwMediaPlay(g_call, file, 0);
    EXPECT_TRUE("tapigwMediaPlay gives a request ID", play > 0);
    EXPECT("the play ends: LINE_REPLY(0)", Reply(play), 0);
    LONG missing = tapigwMediaPlay(g_call, "missing.wav", 0);
    EXPECT_TRUE("a missing file still gives a request ID", missing > 0);
    EXPECT("and LINE_REPLY(OPERATIONFAILED)", Reply(missing), LINEERR_OPERATIONFAILED);
    LONG record = tapigwMediaRecord(g_call, rec, 300, 0);
    EXPECT_TRUE("tapigwMediaRecord gives a request ID", record > 0);
    EXPECT("the recording ends at dwMaxMs: LINE_REPLY(0)", Reply(record), 0);
    EXPECT("tapigwMediaStop", tapigwMediaStop(g_call), 0);
    EXPECT("tapigwMediaStop on a bad handle", tapigwMediaStop(0x7777777), LINEERR_INVALCALLHANDLE);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    DWORD devs = 0, version = 0x00020002;
    LINEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    p.dwOptions = LINEINITIALIZEEXOPTION_USEEVENT;
    EXPECT("lineInitializeEx", lineInitializeEx(&g_app, NULL, NULL, "digits_media", &devs, &version, &p), 0);
    HLINE hLine;
    EXPECT("lineOpen", lineOpen(g_app, 0, &hLine, version, 0, 0, LINECALLPRIVILEGE_OWNER,
                                LINEMEDIAMODE_INTERACTIVEVOICE, NULL), 0);
    printf("ready\n");
    fflush(stdout);
    int offered = 0;
    double deadline = NowMs() + 20000;
    while (!g_call && NowMs() < deadline) {
        LINEMESSAGE m;
        if (lineGetMessage(g_app, &m, 200) == 0)
            Handle(&m);
    }
    offered = g_call != 0;
    EXPECT_TRUE("LINE_APPNEWCALL", offered);
    EXPECT("lineAnswer", Reply(lineAnswer(g_call, NULL, 0)), 0);
    EXPECT_TRUE("CONNECTED", WaitFor(&g_connected));
    Digits();
    Media(argv[1], argv[2]);
    EXPECT("lineDrop", Reply(lineDrop(g_call, NULL, 0)), 0);
    EXPECT_TRUE("IDLE", WaitFor(&g_idle));
    EXPECT("lineDeallocateCall", lineDeallocateCall(g_call), 0);
    EXPECT("lineShutdown", lineShutdown(g_app), 0);
    printf("%d failures\n", g_failures);
    return g_failures != 0;
}
