/*
 * PHONEINITIALIZEEXPARAMS: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(PHONEINITIALIZEEXPARAMS, dwTotalSize, 0);
    CHECK(PHONEINITIALIZEEXPARAMS, dwNeededSize, 4);
    CHECK(PHONEINITIALIZEEXPARAMS, dwUsedSize, 8);
    CHECK(PHONEINITIALIZEEXPARAMS, dwOptions, 12);
    CHECK(PHONEINITIALIZEEXPARAMS, Handles, 16);
    CHECK(PHONEINITIALIZEEXPARAMS, dwCompletionKey, 16 + 1 * P);
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(PHONEINITIALIZEEXPARAMS, 20 + 1 * P);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(PHONEINITIALIZEEXPARAMS, 20 + 1 * P);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(PHONEINITIALIZEEXPARAMS, 20 + 1 * P);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(PHONEINITIALIZEEXPARAMS, 20 + 1 * P);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(PHONEINITIALIZEEXPARAMS, 20 + 1 * P);
#endif
    printf("PHONEINITIALIZEEXPARAMS (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
