/*
 * two_pass.c - the dwNeededSize loop against the real gateway: LINEDEVCAPS with only its
 * fixed part gets dwNeededSize and no strings; grown to dwNeededSize it gets them all.
 * Compile with any TAPI_CURRENT_VERSION: the fixed part is that version's.
 */
#include <stdlib.h>
#include <string.h>

#include <tapi.h>

#include "check.h"

#if TAPI_CURRENT_VERSION > 0x00020002
#define VERSION 0x00020002
#else
#define VERSION TAPI_CURRENT_VERSION
#endif

int main(void)
{
    HLINEAPP h = 0;
    DWORD devs = 0, version = VERSION;
    LINEINITIALIZEEXPARAMS p;
    memset(&p, 0, sizeof(p));
    p.dwTotalSize = sizeof(p);
    p.dwOptions = LINEINITIALIZEEXOPTION_USEEVENT;
    EXPECT("lineInitializeEx", lineInitializeEx(&h, NULL, NULL, "two_pass", &devs, &version, &p), 0);
    EXPECT("negotiated version", version, VERSION);

    LINEDEVCAPS *caps = malloc(sizeof(LINEDEVCAPS));
    memset(caps, 0xEE, sizeof(LINEDEVCAPS));
    caps->dwTotalSize = sizeof(LINEDEVCAPS);
    EXPECT("first pass", lineGetDevCaps(h, 0, VERSION, 0, caps), 0);
    EXPECT("dwUsedSize = fixed part", caps->dwUsedSize, sizeof(LINEDEVCAPS));
    EXPECT_TRUE("dwNeededSize > dwTotalSize", caps->dwNeededSize > caps->dwTotalSize);
    EXPECT("no line name yet", caps->dwLineNameSize, 0);
    EXPECT("fixed fields filled", caps->dwNumAddresses, 1);
    EXPECT("dwStringFormat", caps->dwStringFormat, STRINGFORMAT_ASCII);

    DWORD needed = caps->dwNeededSize;
    caps = realloc(caps, needed);
    caps->dwTotalSize = needed;
    EXPECT("second pass", lineGetDevCaps(h, 0, VERSION, 0, caps), 0);
    EXPECT("dwUsedSize = dwNeededSize", caps->dwUsedSize, needed);
    EXPECT("dwNeededSize unchanged", caps->dwNeededSize, needed);
    const char *name = (const char *)caps + caps->dwLineNameOffset;
    EXPECT_TRUE("line name", caps->dwLineNameSize == 7 && strcmp(name, "Line 1") == 0);
    EXPECT_TRUE("name inside the structure", caps->dwLineNameOffset >= sizeof(LINEDEVCAPS)
                && caps->dwLineNameOffset + caps->dwLineNameSize <= needed);
    const char *provider = (const char *)caps + caps->dwProviderInfoOffset;
    EXPECT_TRUE("provider info", caps->dwProviderInfoSize > 0 && strcmp(provider, "tapigw") == 0);
    EXPECT("media modes", caps->dwMediaModes & LINEMEDIAMODE_INTERACTIVEVOICE, LINEMEDIAMODE_INTERACTIVEVOICE);
    free(caps);

    HLINE hLine;
    EXPECT("lineOpen", lineOpen(h, 0, &hLine, VERSION, 0, 0, LINECALLPRIVILEGE_MONITOR, 0, NULL), 0);
    LINEDEVSTATUS status;
    memset(&status, 0, sizeof(status));
    status.dwTotalSize = sizeof(status);
    EXPECT("lineGetLineDevStatus", lineGetLineDevStatus(hLine, &status), 0);
    EXPECT("dwNumOpens", status.dwNumOpens, 1);
    EXPECT("LINEDEVSTATUS dwUsedSize", status.dwUsedSize, sizeof(status));
    EXPECT("lineShutdown", lineShutdown(h), 0);
    printf("%d failures\n", g_failures);
    return g_failures != 0;
}
