/*
 * errors.c - null pointers, bad handles, bad options and small structures against the real
 * gateway (TAPIGW_API): each call must return the documented LINEERR_ / PHONEERR_.
 */
#include <stdlib.h>
#include <string.h>

#include <tapi.h>

#include "check.h"

static void CALLBACK Callback(DWORD h, DWORD m, DWORD_PTR i, DWORD_PTR a, DWORD_PTR b, DWORD_PTR c)
{
    (void)h; (void)m; (void)i; (void)a; (void)b; (void)c;
}

static LONG Init(HLINEAPP *h, DWORD options, LINECALLBACK cb, DWORD total)
{
    DWORD devs = 0, version = 0x00020002;
    LINEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = total;
    p.dwOptions = options;
    return lineInitializeEx(h, NULL, cb, "errors", &devs, &version, &p);
}

int main(void)
{
    HLINEAPP h = 0, hCallbackApp = 0;
    DWORD devs = 0, version = 0x00020002;
    LINEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    p.dwOptions = LINEINITIALIZEEXOPTION_USEEVENT;

    EXPECT("lineInitializeEx(NULL handle)", lineInitializeEx(NULL, NULL, NULL, "e", &devs, &version, &p),
           LINEERR_INVALPOINTER);
    EXPECT("lineInitializeEx(NULL lpdwNumDevs)", lineInitializeEx(&h, NULL, NULL, "e", NULL, &version, &p),
           LINEERR_INVALPOINTER);
    EXPECT("USECOMPLETIONPORT", Init(&h, LINEINITIALIZEEXOPTION_USECOMPLETIONPORT, NULL, sizeof(p)),
           LINEERR_INVALPARAM);
    EXPECT("unknown option", Init(&h, 7, NULL, sizeof(p)), LINEERR_INVALPARAM);
    EXPECT("USEHIDDENWINDOW without a callback", Init(&h, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, NULL, sizeof(p)),
           LINEERR_INVALPOINTER);
    EXPECT("LINEINITIALIZEEXPARAMS too small", Init(&h, LINEINITIALIZEEXOPTION_USEEVENT, NULL, 8),
           LINEERR_STRUCTURETOOSMALL);
    EXPECT("lineInitializeEx (event)", Init(&h, LINEINITIALIZEEXOPTION_USEEVENT, NULL, sizeof(p)), 0);
    EXPECT("lineInitializeEx (callback)", Init(&hCallbackApp, LINEINITIALIZEEXOPTION_USEHIDDENWINDOW, Callback, sizeof(p)), 0);

    EXPECT("lineShutdown(bad handle)", lineShutdown(h ^ 0x5A5A0000), LINEERR_INVALAPPHANDLE);
    LINEEXTENSIONID ext;
    EXPECT("lineNegotiateAPIVersion(NULL version)", lineNegotiateAPIVersion(h, 0, 0x00010004, 0x00020002, NULL, &ext),
           LINEERR_INVALPOINTER);
    EXPECT("lineNegotiateAPIVersion(NULL ext)", lineNegotiateAPIVersion(h, 0, 0x00010004, 0x00020002, &version, NULL),
           LINEERR_INVALPOINTER);
    EXPECT("lineNegotiateAPIVersion(bad device)", lineNegotiateAPIVersion(h, 99, 0x00010004, 0x00020002, &version, &ext),
           LINEERR_BADDEVICEID);
    EXPECT("lineNegotiateAPIVersion(bad app)", lineNegotiateAPIVersion(h ^ 0x5A5A0000, 0, 0x00010004, 0x00020002, &version, &ext),
           LINEERR_INVALAPPHANDLE);
    EXPECT("lineGetDevCaps(NULL)", lineGetDevCaps(h, 0, 0x00020002, 0, NULL), LINEERR_INVALPOINTER);
    LINEDEVCAPS *caps = calloc(1, sizeof(LINEDEVCAPS));
    caps->dwTotalSize = 8;
    EXPECT("lineGetDevCaps(dwTotalSize 8)", lineGetDevCaps(h, 0, 0x00020002, 0, caps), LINEERR_STRUCTURETOOSMALL);
    caps->dwTotalSize = sizeof(LINEDEVCAPS) - 1;
    EXPECT("lineGetDevCaps(one byte short)", lineGetDevCaps(h, 0, 0x00020002, 0, caps), LINEERR_STRUCTURETOOSMALL);
    free(caps);

    HLINE hLine = 0;
    EXPECT("lineOpen(NULL lphLine)", lineOpen(h, 0, NULL, 0x00020002, 0, 0, LINECALLPRIVILEGE_NONE, 0, NULL),
           LINEERR_INVALPOINTER);
    EXPECT("lineOpen(bad privileges)", lineOpen(h, 0, &hLine, 0x00020002, 0, 0, 0x5, LINEMEDIAMODE_INTERACTIVEVOICE, NULL),
           LINEERR_INVALPRIVSELECT);
    EXPECT("lineOpen", lineOpen(h, 0, &hLine, 0x00020002, 0, 0, LINECALLPRIVILEGE_NONE, 0, NULL), 0);
    EXPECT("lineClose(bad handle)", lineClose(hLine + 12345), LINEERR_INVALLINEHANDLE);
    EXPECT("lineSetStatusMessages(bad handle)", lineSetStatusMessages(hLine + 12345, 0, 0), LINEERR_INVALLINEHANDLE);
    HCALL hCall = 0;
    EXPECT("lineMakeCall(NULL lphCall)", lineMakeCall(hLine, NULL, "1002", 0, NULL), LINEERR_INVALPOINTER);
    EXPECT("lineMakeCall(bad line)", lineMakeCall(hLine + 12345, &hCall, "1002", 0, NULL), LINEERR_INVALLINEHANDLE);
    EXPECT("lineDrop(bad call)", lineDrop(0xDEAD, NULL, 0), LINEERR_INVALCALLHANDLE);
    EXPECT("lineDeallocateCall(bad call)", lineDeallocateCall(0xDEAD), LINEERR_INVALCALLHANDLE);
    LINECALLINFO info;
    memset(&info, 0, sizeof(info));
    info.dwTotalSize = sizeof(info);
    EXPECT("lineGetCallInfo(bad call)", lineGetCallInfo(0xDEAD, &info), LINEERR_INVALCALLHANDLE);
    EXPECT("lineGetCallInfo(NULL)", lineGetCallInfo(0xDEAD, NULL), LINEERR_INVALPOINTER);
    EXPECT("lineGetCallStatus(NULL)", lineGetCallStatus(0xDEAD, NULL), LINEERR_INVALPOINTER);
    EXPECT("lineRedirect(NULL address)", lineRedirect(0xDEAD, NULL, 0), LINEERR_INVALPOINTER);

    LINEMESSAGE m;
    EXPECT("lineGetMessage(NULL)", lineGetMessage(h, NULL, 0), LINEERR_INVALPOINTER);
    EXPECT("lineGetMessage(nothing queued)", lineGetMessage(h, &m, 0), LINEERR_OPERATIONFAILED);
    double t0 = NowMs();
    EXPECT("lineGetMessage(300 ms)", lineGetMessage(h, &m, 300), LINEERR_OPERATIONFAILED);
    double waited = NowMs() - t0;
    EXPECT_TRUE("lineGetMessage waited its time-out", waited >= 280 && waited < 3000);
    EXPECT("lineGetMessage(callback app)", lineGetMessage(hCallbackApp, &m, 0), LINEERR_INVALAPPHANDLE);

    DWORD hookDevs;
    EXPECT("phoneGetHookSwitch(NULL)", phoneGetHookSwitch(0xDEAD, NULL), PHONEERR_INVALPOINTER);
    EXPECT("phoneGetHookSwitch(bad phone)", phoneGetHookSwitch(0xDEAD, &hookDevs), PHONEERR_INVALPHONEHANDLE);
    EXPECT("phoneShutdown(bad app)", phoneShutdown(0xDEAD), PHONEERR_INVALAPPHANDLE);
    PHONEMESSAGE pm;
    EXPECT("phoneGetMessage(bad app)", phoneGetMessage(0xDEAD, &pm, 0), PHONEERR_INVALAPPHANDLE);

    EXPECT("lineClose", lineClose(hLine), 0);
    EXPECT("lineShutdown", lineShutdown(h), 0);
    EXPECT("lineShutdown(again)", lineShutdown(h), LINEERR_INVALAPPHANDLE);
    EXPECT("lineGetMessage(after shutdown)", lineGetMessage(h, &m, 0), LINEERR_INVALAPPHANDLE);
    EXPECT("lineShutdown(callback app)", lineShutdown(hCallbackApp), 0);
    printf("%d failures\n", g_failures);
    return g_failures != 0;
}
