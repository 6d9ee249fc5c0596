/*
 * LINEADDRESSCAPS: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(LINEADDRESSCAPS, dwTotalSize, 0);
    CHECK(LINEADDRESSCAPS, dwNeededSize, 4);
    CHECK(LINEADDRESSCAPS, dwUsedSize, 8);
    CHECK(LINEADDRESSCAPS, dwLineDeviceID, 12);
    CHECK(LINEADDRESSCAPS, dwAddressSize, 16);
    CHECK(LINEADDRESSCAPS, dwAddressOffset, 20);
    CHECK(LINEADDRESSCAPS, dwDevSpecificSize, 24);
    CHECK(LINEADDRESSCAPS, dwDevSpecificOffset, 28);
    CHECK(LINEADDRESSCAPS, dwAddressSharing, 32);
    CHECK(LINEADDRESSCAPS, dwAddressStates, 36);
    CHECK(LINEADDRESSCAPS, dwCallInfoStates, 40);
    CHECK(LINEADDRESSCAPS, dwCallerIDFlags, 44);
    CHECK(LINEADDRESSCAPS, dwCalledIDFlags, 48);
    CHECK(LINEADDRESSCAPS, dwConnectedIDFlags, 52);
    CHECK(LINEADDRESSCAPS, dwRedirectionIDFlags, 56);
    CHECK(LINEADDRESSCAPS, dwRedirectingIDFlags, 60);
    CHECK(LINEADDRESSCAPS, dwCallStates, 64);
    CHECK(LINEADDRESSCAPS, dwDialToneModes, 68);
    CHECK(LINEADDRESSCAPS, dwBusyModes, 72);
    CHECK(LINEADDRESSCAPS, dwSpecialInfo, 76);
    CHECK(LINEADDRESSCAPS, dwDisconnectModes, 80);
    CHECK(LINEADDRESSCAPS, dwMaxNumActiveCalls, 84);
    CHECK(LINEADDRESSCAPS, dwMaxNumOnHoldCalls, 88);
    CHECK(LINEADDRESSCAPS, dwMaxNumOnHoldPendingCalls, 92);
    CHECK(LINEADDRESSCAPS, dwMaxNumConference, 96);
    CHECK(LINEADDRESSCAPS, dwMaxNumTransConf, 100);
    CHECK(LINEADDRESSCAPS, dwAddrCapFlags, 104);
    CHECK(LINEADDRESSCAPS, dwCallFeatures, 108);
    CHECK(LINEADDRESSCAPS, dwRemoveFromConfCaps, 112);
    CHECK(LINEADDRESSCAPS, dwRemoveFromConfState, 116);
    CHECK(LINEADDRESSCAPS, dwTransferModes, 120);
    CHECK(LINEADDRESSCAPS, dwParkModes, 124);
    CHECK(LINEADDRESSCAPS, dwForwardModes, 128);
    CHECK(LINEADDRESSCAPS, dwMaxForwardEntries, 132);
    CHECK(LINEADDRESSCAPS, dwMaxSpecificEntries, 136);
    CHECK(LINEADDRESSCAPS, dwMinFwdNumRings, 140);
    CHECK(LINEADDRESSCAPS, dwMaxFwdNumRings, 144);
    CHECK(LINEADDRESSCAPS, dwMaxCallCompletions, 148);
    CHECK(LINEADDRESSCAPS, dwCallCompletionConds, 152);
    CHECK(LINEADDRESSCAPS, dwCallCompletionModes, 156);
    CHECK(LINEADDRESSCAPS, dwNumCompletionMessages, 160);
    CHECK(LINEADDRESSCAPS, dwCompletionMsgTextEntrySize, 164);
    CHECK(LINEADDRESSCAPS, dwCompletionMsgTextSize, 168);
    CHECK(LINEADDRESSCAPS, dwCompletionMsgTextOffset, 172);
    CHECK(LINEADDRESSCAPS, dwAddressFeatures, 176);
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    CHECK(LINEADDRESSCAPS, dwPredictiveAutoTransferStates, 180);
    CHECK(LINEADDRESSCAPS, dwNumCallTreatments, 184);
    CHECK(LINEADDRESSCAPS, dwCallTreatmentListSize, 188);
    CHECK(LINEADDRESSCAPS, dwCallTreatmentListOffset, 192);
    CHECK(LINEADDRESSCAPS, dwDeviceClassesSize, 196);
    CHECK(LINEADDRESSCAPS, dwDeviceClassesOffset, 200);
    CHECK(LINEADDRESSCAPS, dwMaxCallDataSize, 204);
    CHECK(LINEADDRESSCAPS, dwCallFeatures2, 208);
    CHECK(LINEADDRESSCAPS, dwMaxNoAnswerTimeout, 212);
    CHECK(LINEADDRESSCAPS, dwConnectedModes, 216);
    CHECK(LINEADDRESSCAPS, dwOfferingModes, 220);
    CHECK(LINEADDRESSCAPS, dwAvailableMediaModes, 224);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(LINEADDRESSCAPS, 228);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(LINEADDRESSCAPS, 228);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(LINEADDRESSCAPS, 228);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(LINEADDRESSCAPS, 228);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(LINEADDRESSCAPS, 180);
#endif
    printf("LINEADDRESSCAPS (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
