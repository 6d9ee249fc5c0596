/*
 * LINEMESSAGE: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(LINEMESSAGE, hDevice, 0);
    CHECK(LINEMESSAGE, dwMessageID, 4);
    CHECK(LINEMESSAGE, dwCallbackInstance, 8);
    CHECK(LINEMESSAGE, dwParam1, 8 + 1 * P);
    CHECK(LINEMESSAGE, dwParam2, 8 + 2 * P);
    CHECK(LINEMESSAGE, dwParam3, 8 + 3 * P);
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(LINEMESSAGE, 8 + 4 * P);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(LINEMESSAGE, 8 + 4 * P);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(LINEMESSAGE, 8 + 4 * P);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(LINEMESSAGE, 8 + 4 * P);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(LINEMESSAGE, 8 + 4 * P);
#endif
    printf("LINEMESSAGE (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
