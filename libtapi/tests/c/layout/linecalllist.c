/*
 * LINECALLLIST: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(LINECALLLIST, dwTotalSize, 0);
    CHECK(LINECALLLIST, dwNeededSize, 4);
    CHECK(LINECALLLIST, dwUsedSize, 8);
    CHECK(LINECALLLIST, dwCallsNumEntries, 12);
    CHECK(LINECALLLIST, dwCallsSize, 16);
    CHECK(LINECALLLIST, dwCallsOffset, 20);
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(LINECALLLIST, 24);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(LINECALLLIST, 24);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(LINECALLLIST, 24);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(LINECALLLIST, 24);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(LINECALLLIST, 24);
#endif
    printf("LINECALLLIST (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
