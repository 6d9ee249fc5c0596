/*
 * LINECALLPARAMS: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(LINECALLPARAMS, dwTotalSize, 0);
    CHECK(LINECALLPARAMS, dwBearerMode, 4);
    CHECK(LINECALLPARAMS, dwMinRate, 8);
    CHECK(LINECALLPARAMS, dwMaxRate, 12);
    CHECK(LINECALLPARAMS, dwMediaMode, 16);
    CHECK(LINECALLPARAMS, dwCallParamFlags, 20);
    CHECK(LINECALLPARAMS, dwAddressMode, 24);
    CHECK(LINECALLPARAMS, dwAddressID, 28);
    CHECK(LINECALLPARAMS, DialParams, 32);
    CHECK(LINECALLPARAMS, dwOrigAddressSize, 48);
    CHECK(LINECALLPARAMS, dwOrigAddressOffset, 52);
    CHECK(LINECALLPARAMS, dwDisplayableAddressSize, 56);
    CHECK(LINECALLPARAMS, dwDisplayableAddressOffset, 60);
    CHECK(LINECALLPARAMS, dwCalledPartySize, 64);
    CHECK(LINECALLPARAMS, dwCalledPartyOffset, 68);
    CHECK(LINECALLPARAMS, dwCommentSize, 72);
    CHECK(LINECALLPARAMS, dwCommentOffset, 76);
    CHECK(LINECALLPARAMS, dwUserUserInfoSize, 80);
    CHECK(LINECALLPARAMS, dwUserUserInfoOffset, 84);
    CHECK(LINECALLPARAMS, dwHighLevelCompSize, 88);
    CHECK(LINECALLPARAMS, dwHighLevelCompOffset, 92);
    CHECK(LINECALLPARAMS, dwLowLevelCompSize, 96);
    CHECK(LINECALLPARAMS, dwLowLevelCompOffset, 100);
    CHECK(LINECALLPARAMS, dwDevSpecificSize, 104);
    CHECK(LINECALLPARAMS, dwDevSpecificOffset, 108);
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    CHECK(LINECALLPARAMS, dwPredictiveAutoTransferStates, 112);
    CHECK(LINECALLPARAMS, dwTargetAddressSize, 116);
    CHECK(LINECALLPARAMS, dwTargetAddressOffset, 120);
    CHECK(LINECALLPARAMS, dwSendingFlowspecSize, 124);
    CHECK(LINECALLPARAMS, dwSendingFlowspecOffset, 128);
    CHECK(LINECALLPARAMS, dwReceivingFlowspecSize, 132);
    CHECK(LINECALLPARAMS, dwReceivingFlowspecOffset, 136);
    CHECK(LINECALLPARAMS, dwDeviceClassSize, 140);
    CHECK(LINECALLPARAMS, dwDeviceClassOffset, 144);
    CHECK(LINECALLPARAMS, dwDeviceConfigSize, 148);
    CHECK(LINECALLPARAMS, dwDeviceConfigOffset, 152);
    CHECK(LINECALLPARAMS, dwCallDataSize, 156);
    CHECK(LINECALLPARAMS, dwCallDataOffset, 160);
    CHECK(LINECALLPARAMS, dwNoAnswerTimeout, 164);
    CHECK(LINECALLPARAMS, dwCallingPartyIDSize, 168);
    CHECK(LINECALLPARAMS, dwCallingPartyIDOffset, 172);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030000)
    CHECK(LINECALLPARAMS, dwAddressType, 176);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(LINECALLPARAMS, 180);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(LINECALLPARAMS, 180);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(LINECALLPARAMS, 176);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(LINECALLPARAMS, 176);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(LINECALLPARAMS, 112);
#endif
    printf("LINECALLPARAMS (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
