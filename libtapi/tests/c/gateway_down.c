/*
 * gateway_down.c - with no gateway listening (TAPIGW_API), lineInitializeEx and
 * phoneInitializeEx fail with LINEERR_NODRIVER / PHONEERR_NODRIVER within MAX_MS.
 *
 *     gateway_down MAX_MS
 */
#include <stdlib.h>
#include <string.h>

#include <tapi.h>

#include "check.h"

static void CALLBACK Callback(DWORD h, DWORD m, DWORD_PTR i, DWORD_PTR a, DWORD_PTR b, DWORD_PTR c)
{
    (void)h; (void)m; (void)i; (void)a; (void)b; (void)c;
}

int main(int argc, char **argv)
{
    double limit = argc > 1 ? atof(argv[1]) : 1000;
    HLINEAPP hLineApp = 0;
    DWORD devs = 0, version = 0x00020002;
    LINEINITIALIZEEXPARAMS lp;
    memset(&lp, 0, sizeof(lp));
    lp.dwTotalSize = sizeof(lp);
    lp.dwOptions = LINEINITIALIZEEXOPTION_USEHIDDENWINDOW;
    double t0 = NowMs();
    LONG r = lineInitializeEx(&hLineApp, NULL, Callback, "down", &devs, &version, &lp);
    double took = NowMs() - t0;
    EXPECT("lineInitializeEx -> LINEERR_NODRIVER", r, LINEERR_NODRIVER);
    printf("lineInitializeEx took %.0f ms\n", took);
    EXPECT_TRUE("lineInitializeEx fails fast", took <= limit);

    HPHONEAPP hPhoneApp = 0;
    PHONEINITIALIZEEXPARAMS pp;
    memset(&pp, 0, sizeof(pp));
    pp.dwTotalSize = sizeof(pp);
    pp.dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT;
    t0 = NowMs();
    r = phoneInitializeEx(&hPhoneApp, NULL, NULL, "down", &devs, &version, &pp);
    took = NowMs() - t0;
    EXPECT("phoneInitializeEx -> PHONEERR_NODRIVER", r, PHONEERR_NODRIVER);
    EXPECT_TRUE("phoneInitializeEx fails fast", took <= limit);
    return g_failures != 0;
}
