/*
 * LINEDEVSTATUS: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(LINEDEVSTATUS, dwTotalSize, 0);
    CHECK(LINEDEVSTATUS, dwNeededSize, 4);
    CHECK(LINEDEVSTATUS, dwUsedSize, 8);
    CHECK(LINEDEVSTATUS, dwNumOpens, 12);
    CHECK(LINEDEVSTATUS, dwOpenMediaModes, 16);
    CHECK(LINEDEVSTATUS, dwNumActiveCalls, 20);
    CHECK(LINEDEVSTATUS, dwNumOnHoldCalls, 24);
    CHECK(LINEDEVSTATUS, dwNumOnHoldPendCalls, 28);
    CHECK(LINEDEVSTATUS, dwLineFeatures, 32);
    CHECK(LINEDEVSTATUS, dwNumCallCompletions, 36);
    CHECK(LINEDEVSTATUS, dwRingMode, 40);
    CHECK(LINEDEVSTATUS, dwSignalLevel, 44);
    CHECK(LINEDEVSTATUS, dwBatteryLevel, 48);
    CHECK(LINEDEVSTATUS, dwRoamMode, 52);
    CHECK(LINEDEVSTATUS, dwDevStatusFlags, 56);
    CHECK(LINEDEVSTATUS, dwTerminalModesSize, 60);
    CHECK(LINEDEVSTATUS, dwTerminalModesOffset, 64);
    CHECK(LINEDEVSTATUS, dwDevSpecificSize, 68);
    CHECK(LINEDEVSTATUS, dwDevSpecificOffset, 72);
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    CHECK(LINEDEVSTATUS, dwAvailableMediaModes, 76);
    CHECK(LINEDEVSTATUS, dwAppInfoSize, 80);
    CHECK(LINEDEVSTATUS, dwAppInfoOffset, 84);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(LINEDEVSTATUS, 88);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(LINEDEVSTATUS, 88);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(LINEDEVSTATUS, 88);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(LINEDEVSTATUS, 88);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(LINEDEVSTATUS, 76);
#endif
    printf("LINEDEVSTATUS (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
