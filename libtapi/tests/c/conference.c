/*
 * conference.c - conferences through the C interface against the real gateway, SIPp
 * (uas_conference.xml, -m 3) answering every call.
 *
 *     conference transfer   lineMakeCall 1002, lineSetupTransfer + lineDial 4000,
 *                           lineCompleteTransfer(CONFERENCE) fills *lphConfCall; both calls
 *                           CONFERENCED (dwParam2 the conference call); a third call (5000)
 *                           joins by lineAddToConference, leaves by lineRemoveFromConference
 *                           (CONNECTED again) and is dropped; lineDrop of the conference.
 *     conference setup      lineMakeCall 4000, lineSetupConference (conference ONHOLDPENDCONF,
 *                           consultation DIALTONE, the call CONFERENCED), lineDial 5000 and
 *                           lineAddToConference; linePrepareAddToConference + lineDial 4000
 *                           and lineAddToConference; lineRemoveFromConference; lineDrop.
 */
#include <stdlib.h>
#include <string.h>

#include <tapi.h>

#include "check.h"

static HLINEAPP g_app;
static HLINE g_line;

#define MAX_CALLS 8
static struct {
    HCALL h;
    DWORD state, param2;
} g_calls[MAX_CALLS];
static LONG g_request;
static LONG g_reply;
static int g_replied;

static void Remember(HCALL h, DWORD state, DWORD param2)
{
    for (int i = 0; i < MAX_CALLS; i++) {
        if (g_calls[i].h == h || g_calls[i].h == 0) {
            g_calls[i].h = h;
            g_calls[i].state = state;
            g_calls[i].param2 = param2;
            return;
        }
    }
}

static int Pump(void)
{
    LINEMESSAGE m;
    if (lineGetMessage(g_app, &m, 200) != 0)
        return 0;
    printf("message %lu on %lu: 0x%lx 0x%lx\n", (unsigned long)m.dwMessageID,
           (unsigned long)m.hDevice, (unsigned long)m.dwParam1, (unsigned long)m.dwParam2);
    fflush(stdout);
    if (m.dwMessageID == LINE_CALLSTATE)
        Remember((HCALL)m.hDevice, (DWORD)m.dwParam1, (DWORD)m.dwParam2);
    if (m.dwMessageID == LINE_REPLY && (LONG)m.dwParam1 == g_request) {
        g_reply = (LONG)m.dwParam2;
        g_replied = 1;
    }
    return 1;
}

/* The LINE_REPLY of `request` (a failed function's error at once); 1 when none came. */
static LONG Reply(LONG request)
{
    if (request <= 0)
        return request;
    g_request = request;
    g_replied = 0;
    double deadline = NowMs() + 20000;
    while (!g_replied && NowMs() < deadline)
        Pump();
    return g_replied ? g_reply : 1;
}

/* Waits until `h` reached `state`; its dwParam2 then, or 0xFFFFFFFF after 20 s. */
static DWORD WaitState(HCALL h, DWORD state)
{
    double deadline = NowMs() + 20000;
    for (;;) {
        for (int i = 0; i < MAX_CALLS; i++)
            if (g_calls[i].h == h && g_calls[i].state == state)
                return g_calls[i].param2;
        if (NowMs() > deadline)
            return 0xFFFFFFFF;
        Pump();
    }
}

static HCALL Call(const char *number)
{
    HCALL h = 0;
    EXPECT(number, Reply(lineMakeCall(g_line, &h, number, 0, NULL)), 0);
    EXPECT_TRUE("CONNECTED", WaitState(h, LINECALLSTATE_CONNECTED) != 0xFFFFFFFF);
    return h;
}

static void Dial(HCALL h, const char *number)
{
    EXPECT("lineDial", Reply(lineDial(h, number, 0)), 0);
    EXPECT_TRUE("the consultation call CONNECTED", WaitState(h, LINECALLSTATE_CONNECTED) != 0xFFFFFFFF);
}

/* `party` joins `conf`: LINE_REPLY(0), CONFERENCED naming the conference call. */
static void Add(HCALL conf, HCALL party)
{
    EXPECT("lineAddToConference", Reply(lineAddToConference(conf, party)), 0);
    EXPECT("the party CONFERENCED (dwParam2 the conference)", WaitState(party, LINECALLSTATE_CONFERENCED), conf);
}

/* `party` leaves: CONNECTED again, then dropped. */
static void RemoveAndDrop(HCALL party)
{
    EXPECT("lineRemoveFromConference", Reply(lineRemoveFromConference(party)), 0);
    EXPECT_TRUE("the party CONNECTED again", WaitState(party, LINECALLSTATE_CONNECTED) != 0xFFFFFFFF);
    EXPECT("lineDrop(party)", Reply(lineDrop(party, NULL, 0)), 0);
    EXPECT_TRUE("the party IDLE", WaitState(party, LINECALLSTATE_IDLE) != 0xFFFFFFFF);
    EXPECT("lineDeallocateCall(party)", lineDeallocateCall(party), 0);
}

static HCALL ByTransfer(void)
{
    HCALL h = Call("1002"), consult = 0, conf = 0;
    EXPECT("lineSetupTransfer", Reply(lineSetupTransfer(h, &consult, NULL)), 0);
    Dial(consult, "4000");
    EXPECT("lineCompleteTransfer(CONFERENCE, NULL lphConfCall)",
           lineCompleteTransfer(h, consult, NULL, LINETRANSFERMODE_CONFERENCE), LINEERR_INVALPOINTER);
    LONG r = lineCompleteTransfer(h, consult, &conf, LINETRANSFERMODE_CONFERENCE);
    EXPECT_TRUE("lineCompleteTransfer(CONFERENCE) gives a request ID", r > 0);
    EXPECT_TRUE("and fills lphConfCall", conf != 0);
    EXPECT("LINE_REPLY(0)", Reply(r), 0);
    EXPECT("the call CONFERENCED", WaitState(h, LINECALLSTATE_CONFERENCED), conf);
    EXPECT("the consultation call CONFERENCED", WaitState(consult, LINECALLSTATE_CONFERENCED), conf);
    EXPECT_TRUE("the conference CONNECTED", WaitState(conf, LINECALLSTATE_CONNECTED) != 0xFFFFFFFF);
    HCALL third = Call("5000");
    Add(conf, third);
    RemoveAndDrop(third);
    EXPECT("lineRemoveFromConference of no party", lineRemoveFromConference(third), LINEERR_INVALCALLHANDLE);
    return conf;
}

static HCALL BySetup(void)
{
    HCALL h = Call("4000"), conf = 0, consult = 0, added = 0;
    EXPECT("lineSetupConference(NULL hCall)", lineSetupConference(0, g_line, &conf, &consult, 3, NULL),
           LINEERR_OPERATIONUNAVAIL);
    EXPECT("lineSetupConference(NULL lphConfCall)", lineSetupConference(h, g_line, NULL, &consult, 3, NULL),
           LINEERR_INVALPOINTER);
    LONG r = lineSetupConference(h, g_line, &conf, &consult, 3, NULL);
    EXPECT_TRUE("lineSetupConference gives a request ID", r > 0);
    EXPECT_TRUE("and both handles", conf != 0 && consult != 0);
    EXPECT("LINE_REPLY(0)", Reply(r), 0);
    EXPECT_TRUE("the conference ONHOLDPENDCONF", WaitState(conf, LINECALLSTATE_ONHOLDPENDCONF) != 0xFFFFFFFF);
    EXPECT_TRUE("the consultation call DIALTONE", WaitState(consult, LINECALLSTATE_DIALTONE) != 0xFFFFFFFF);
    EXPECT("the call CONFERENCED", WaitState(h, LINECALLSTATE_CONFERENCED), conf);
    Dial(consult, "5000");
    Add(conf, consult);
    r = linePrepareAddToConference(conf, &added, NULL);
    EXPECT_TRUE("linePrepareAddToConference gives a request ID", r > 0);
    EXPECT_TRUE("and the consultation call", added != 0);
    EXPECT("LINE_REPLY(0)", Reply(r), 0);
    EXPECT_TRUE("the new consultation call DIALTONE", WaitState(added, LINECALLSTATE_DIALTONE) != 0xFFFFFFFF);
    Dial(added, "4000");
    Add(conf, added);
    RemoveAndDrop(added);
    return conf;
}

int main(int argc, char **argv)
{
    int setup = argc > 1 && strcmp(argv[1], "setup") == 0;
    DWORD devs = 0, version = 0x00020002;
    LINEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    p.dwOptions = LINEINITIALIZEEXOPTION_USEEVENT;
    EXPECT("lineInitializeEx", lineInitializeEx(&g_app, NULL, NULL, "conference", &devs, &version, &p), 0);
    EXPECT("lineOpen", lineOpen(g_app, 0, &g_line, version, 0, 0, LINECALLPRIVILEGE_OWNER,
                                LINEMEDIAMODE_INTERACTIVEVOICE, NULL), 0);
    HCALL conf = setup ? BySetup() : ByTransfer();
    EXPECT("lineDrop(conference)", Reply(lineDrop(conf, NULL, 0)), 0);
    EXPECT_TRUE("the conference IDLE", WaitState(conf, LINECALLSTATE_IDLE) != 0xFFFFFFFF);
    EXPECT("lineShutdown", lineShutdown(g_app), 0);
    printf("%d failures\n", g_failures);
    return g_failures != 0;
}
