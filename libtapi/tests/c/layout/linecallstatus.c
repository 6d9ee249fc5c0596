/*
 * LINECALLSTATUS: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(LINECALLSTATUS, dwTotalSize, 0);
    CHECK(LINECALLSTATUS, dwNeededSize, 4);
    CHECK(LINECALLSTATUS, dwUsedSize, 8);
    CHECK(LINECALLSTATUS, dwCallState, 12);
    CHECK(LINECALLSTATUS, dwCallStateMode, 16);
    CHECK(LINECALLSTATUS, dwCallPrivilege, 20);
    CHECK(LINECALLSTATUS, dwCallFeatures, 24);
    CHECK(LINECALLSTATUS, dwDevSpecificSize, 28);
    CHECK(LINECALLSTATUS, dwDevSpecificOffset, 32);
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    CHECK(LINECALLSTATUS, dwCallFeatures2, 36);
    CHECK(LINECALLSTATUS, tStateEntryTime, 40);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(LINECALLSTATUS, 56);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(LINECALLSTATUS, 56);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(LINECALLSTATUS, 56);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(LINECALLSTATUS, 56);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(LINECALLSTATUS, 36);
#endif
    printf("LINECALLSTATUS (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
