/*
 * LINEADDRESSSTATUS: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(LINEADDRESSSTATUS, dwTotalSize, 0);
    CHECK(LINEADDRESSSTATUS, dwNeededSize, 4);
    CHECK(LINEADDRESSSTATUS, dwUsedSize, 8);
    CHECK(LINEADDRESSSTATUS, dwNumInUse, 12);
    CHECK(LINEADDRESSSTATUS, dwNumActiveCalls, 16);
    CHECK(LINEADDRESSSTATUS, dwNumOnHoldCalls, 20);
    CHECK(LINEADDRESSSTATUS, dwNumOnHoldPendCalls, 24);
    CHECK(LINEADDRESSSTATUS, dwAddressFeatures, 28);
    CHECK(LINEADDRESSSTATUS, dwNumRingsNoAnswer, 32);
    CHECK(LINEADDRESSSTATUS, dwForwardNumEntries, 36);
    CHECK(LINEADDRESSSTATUS, dwForwardSize, 40);
    CHECK(LINEADDRESSSTATUS, dwForwardOffset, 44);
    CHECK(LINEADDRESSSTATUS, dwTerminalModesSize, 48);
    CHECK(LINEADDRESSSTATUS, dwTerminalModesOffset, 52);
    CHECK(LINEADDRESSSTATUS, dwDevSpecificSize, 56);
    CHECK(LINEADDRESSSTATUS, dwDevSpecificOffset, 60);
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(LINEADDRESSSTATUS, 64);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(LINEADDRESSSTATUS, 64);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(LINEADDRESSSTATUS, 64);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(LINEADDRESSSTATUS, 64);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(LINEADDRESSSTATUS, 64);
#endif
    printf("LINEADDRESSSTATUS (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
