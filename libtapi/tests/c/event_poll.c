/*
 * event_poll.c - LINEINITIALIZEEXOPTION_USEEVENT against the real gateway: hEvent is a
 * descriptor that poll() reports readable exactly while lineGetMessage has something; a call
 * to NUMBER (SIPp answers it busy) delivers LINE_REPLY first, then its states up to IDLE.
 *
 *     event_poll NUMBER
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <tapi.h>

#include "check.h"

static int Readable(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

int main(int argc, char **argv)
{
    const char *number = argc > 1 ? argv[1] : "1002";
    HLINEAPP h = 0;
    DWORD devs = 0, version = 0x00020002;
    LINEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    p.dwOptions = LINEINITIALIZEEXOPTION_USEEVENT;
    EXPECT("lineInitializeEx", lineInitializeEx(&h, NULL, NULL, "event_poll", &devs, &version, &p), 0);
    int fd = TAPI_EVENT_FD(p.Handles.hEvent);
    EXPECT_TRUE("hEvent is a descriptor", fd > 2);
    EXPECT("dwNeededSize", p.dwNeededSize, sizeof(p));
    EXPECT_TRUE("not readable with nothing queued", !Readable(fd, 0));

    HLINE hLine;
    EXPECT("lineOpen", lineOpen(h, 0, &hLine, version, 0, 0x1234, LINECALLPRIVILEGE_OWNER,
                                LINEMEDIAMODE_INTERACTIVEVOICE, NULL), 0);
    HCALL hCall = 0;
    LONG request = lineMakeCall(hLine, &hCall, number, 0, NULL);
    EXPECT_TRUE("lineMakeCall gives a request ID", request > 0);
    EXPECT_TRUE("and a call handle", hCall != 0);

    int seenReply = 0, idle = 0, order_ok = 1, instance_ok = 1;
    DWORD mode = 0;
    double deadline = NowMs() + 20000;
    while (!idle && NowMs() < deadline) {
        if (!Readable(fd, 500))
            continue;
        LINEMESSAGE m;
        int got = 0;
        while (lineGetMessage(h, &m, 0) == 0) {
            got++;
            printf("message %lu on %lu: %lu %lu\n", (unsigned long)m.dwMessageID,
                   (unsigned long)m.hDevice, (unsigned long)m.dwParam1, (unsigned long)m.dwParam2);
            if (m.dwMessageID == LINE_REPLY && (LONG)m.dwParam1 == request) {
                seenReply = 1;
                EXPECT("LINE_REPLY result", (LONG)m.dwParam2, 0);
            }
            if (m.dwMessageID == LINE_CALLSTATE && m.hDevice == hCall) {
                if (!seenReply)
                    order_ok = 0;
                if (m.dwCallbackInstance != 0x1234)
                    instance_ok = 0;
                if (m.dwParam1 == LINECALLSTATE_DISCONNECTED)
                    mode = (DWORD)m.dwParam2;
                if (m.dwParam1 == LINECALLSTATE_IDLE)
                    idle = 1;
            }
        }
        EXPECT_TRUE("readable meant a message", got > 0);
        EXPECT_TRUE("drained: not readable", !Readable(fd, 0));
    }
    EXPECT_TRUE("the call went IDLE", idle);
    EXPECT_TRUE("LINE_REPLY before the first LINE_CALLSTATE", order_ok);
    EXPECT_TRUE("dwCallbackInstance is lineOpen's", instance_ok);
    EXPECT("DISCONNECTED mode", mode, LINEDISCONNECTMODE_BUSY);
    LINEMESSAGE m;
    EXPECT("nothing left", lineGetMessage(h, &m, 0), LINEERR_OPERATIONFAILED);
    EXPECT("lineDeallocateCall", lineDeallocateCall(hCall), 0);
    EXPECT("lineShutdown", lineShutdown(h), 0);
    printf("%d failures\n", g_failures);
    return g_failures != 0;
}
