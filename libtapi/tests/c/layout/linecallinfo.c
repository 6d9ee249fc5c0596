/*
 * LINECALLINFO: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(LINECALLINFO, dwTotalSize, 0);
    CHECK(LINECALLINFO, dwNeededSize, 4);
    CHECK(LINECALLINFO, dwUsedSize, 8);
    CHECK(LINECALLINFO, hLine, 12);
    CHECK(LINECALLINFO, dwLineDeviceID, 16);
    CHECK(LINECALLINFO, dwAddressID, 20);
    CHECK(LINECALLINFO, dwBearerMode, 24);
    CHECK(LINECALLINFO, dwRate, 28);
    CHECK(LINECALLINFO, dwMediaMode, 32);
    CHECK(LINECALLINFO, dwAppSpecific, 36);
    CHECK(LINECALLINFO, dwCallID, 40);
    CHECK(LINECALLINFO, dwRelatedCallID, 44);
    CHECK(LINECALLINFO, dwCallParamFlags, 48);
    CHECK(LINECALLINFO, dwCallStates, 52);
    CHECK(LINECALLINFO, dwMonitorDigitModes, 56);
    CHECK(LINECALLINFO, dwMonitorMediaModes, 60);
    CHECK(LINECALLINFO, DialParams, 64);
    CHECK(LINECALLINFO, dwOrigin, 80);
    CHECK(LINECALLINFO, dwReason, 84);
    CHECK(LINECALLINFO, dwCompletionID, 88);
    CHECK(LINECALLINFO, dwNumOwners, 92);
    CHECK(LINECALLINFO, dwNumMonitors, 96);
    CHECK(LINECALLINFO, dwCountryCode, 100);
    CHECK(LINECALLINFO, dwTrunk, 104);
    CHECK(LINECALLINFO, dwCallerIDFlags, 108);
    CHECK(LINECALLINFO, dwCallerIDSize, 112);
    CHECK(LINECALLINFO, dwCallerIDOffset, 116);
    CHECK(LINECALLINFO, dwCallerIDNameSize, 120);
    CHECK(LINECALLINFO, dwCallerIDNameOffset, 124);
    CHECK(LINECALLINFO, dwCalledIDFlags, 128);
    CHECK(LINECALLINFO, dwCalledIDSize, 132);
    CHECK(LINECALLINFO, dwCalledIDOffset, 136);
    CHECK(LINECALLINFO, dwCalledIDNameSize, 140);
    CHECK(LINECALLINFO, dwCalledIDNameOffset, 144);
    CHECK(LINECALLINFO, dwConnectedIDFlags, 148);
    CHECK(LINECALLINFO, dwConnectedIDSize, 152);
    CHECK(LINECALLINFO, dwConnectedIDOffset, 156);
    CHECK(LINECALLINFO, dwConnectedIDNameSize, 160);
    CHECK(LINECALLINFO, dwConnectedIDNameOffset, 164);
    CHECK(LINECALLINFO, dwRedirectionIDFlags, 168);
    CHECK(LINECALLINFO, dwRedirectionIDSize, 172);
    CHECK(LINECALLINFO, dwRedirectionIDOffset, 176);
    CHECK(LINECALLINFO, dwRedirectionIDNameSize, 180);
    CHECK(LINECALLINFO, dwRedirectionIDNameOffset, 184);
    CHECK(LINECALLINFO, dwRedirectingIDFlags, 188);
    CHECK(LINECALLINFO, dwRedirectingIDSize, 192);
    CHECK(LINECALLINFO, dwRedirectingIDOffset, 196);
    CHECK(LINECALLINFO, dwRedirectingIDNameSize, 200);
    CHECK(LINECALLINFO, dwRedirectingIDNameOffset, 204);
    CHECK(LINECALLINFO, dwAppNameSize, 208);
    CHECK(LINECALLINFO, dwAppNameOffset, 212);
    CHECK(LINECALLINFO, dwDisplayableAddressSize, 216);
    CHECK(LINECALLINFO, dwDisplayableAddressOffset, 220);
    CHECK(LINECALLINFO, dwCalledPartySize, 224);
    CHECK(LINECALLINFO, dwCalledPartyOffset, 228);
    CHECK(LINECALLINFO, dwCommentSize, 232);
    CHECK(LINECALLINFO, dwCommentOffset, 236);
    CHECK(LINECALLINFO, dwDisplaySize, 240);
    CHECK(LINECALLINFO, dwDisplayOffset, 244);
    CHECK(LINECALLINFO, dwUserUserInfoSize, 248);
    CHECK(LINECALLINFO, dwUserUserInfoOffset, 252);
    CHECK(LINECALLINFO, dwHighLevelCompSize, 256);
    CHECK(LINECALLINFO, dwHighLevelCompOffset, 260);
    CHECK(LINECALLINFO, dwLowLevelCompSize, 264);
    CHECK(LINECALLINFO, dwLowLevelCompOffset, 268);
    CHECK(LINECALLINFO, dwChargingInfoSize, 272);
    CHECK(LINECALLINFO, dwChargingInfoOffset, 276);
    CHECK(LINECALLINFO, dwTerminalModesSize, 280);
    CHECK(LINECALLINFO, dwTerminalModesOffset, 284);
    CHECK(LINECALLINFO, dwDevSpecificSize, 288);
    CHECK(LINECALLINFO, dwDevSpecificOffset, 292);
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    CHECK(LINECALLINFO, dwCallTreatment, 296);
    CHECK(LINECALLINFO, dwCallDataSize, 300);
    CHECK(LINECALLINFO, dwCallDataOffset, 304);
    CHECK(LINECALLINFO, dwSendingFlowspecSize, 308);
    CHECK(LINECALLINFO, dwSendingFlowspecOffset, 312);
    CHECK(LINECALLINFO, dwReceivingFlowspecSize, 316);
    CHECK(LINECALLINFO, dwReceivingFlowspecOffset, 320);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030000)
    CHECK(LINECALLINFO, dwCallerIDAddressType, 324);
    CHECK(LINECALLINFO, dwCalledIDAddressType, 328);
    CHECK(LINECALLINFO, dwConnectedIDAddressType, 332);
    CHECK(LINECALLINFO, dwRedirectionIDAddressType, 336);
    CHECK(LINECALLINFO, dwRedirectingIDAddressType, 340);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(LINECALLINFO, 344);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(LINECALLINFO, 344);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(LINECALLINFO, 324);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(LINECALLINFO, 324);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(LINECALLINFO, 296);
#endif
    printf("LINECALLINFO (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
