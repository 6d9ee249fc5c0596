/*
 * LINEFORWARD: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(LINEFORWARD, dwForwardMode, 0);
    CHECK(LINEFORWARD, dwCallerAddressSize, 4);
    CHECK(LINEFORWARD, dwCallerAddressOffset, 8);
    CHECK(LINEFORWARD, dwDestCountryCode, 12);
    CHECK(LINEFORWARD, dwDestAddressSize, 16);
    CHECK(LINEFORWARD, dwDestAddressOffset, 20);
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    CHECK(LINEFORWARD, dwCallerAddressType, 24);
    CHECK(LINEFORWARD, dwDestAddressType, 28);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(LINEFORWARD, 32);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(LINEFORWARD, 24);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(LINEFORWARD, 24);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(LINEFORWARD, 24);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(LINEFORWARD, 24);
#endif
    printf("LINEFORWARD (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
