/*
 * LINEFORWARDLIST: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(LINEFORWARDLIST, dwTotalSize, 0);
    CHECK(LINEFORWARDLIST, dwNumEntries, 4);
    CHECK(LINEFORWARDLIST, ForwardList, 8);
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(LINEFORWARDLIST, 40);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(LINEFORWARDLIST, 32);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(LINEFORWARDLIST, 32);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(LINEFORWARDLIST, 32);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(LINEFORWARDLIST, 32);
#endif
    printf("LINEFORWARDLIST (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
