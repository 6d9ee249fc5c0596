/*
 * LINEDEVCAPS: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(LINEDEVCAPS, dwTotalSize, 0);
    CHECK(LINEDEVCAPS, dwNeededSize, 4);
    CHECK(LINEDEVCAPS, dwUsedSize, 8);
    CHECK(LINEDEVCAPS, dwProviderInfoSize, 12);
    CHECK(LINEDEVCAPS, dwProviderInfoOffset, 16);
    CHECK(LINEDEVCAPS, dwSwitchInfoSize, 20);
    CHECK(LINEDEVCAPS, dwSwitchInfoOffset, 24);
    CHECK(LINEDEVCAPS, dwPermanentLineID, 28);
    CHECK(LINEDEVCAPS, dwLineNameSize, 32);
    CHECK(LINEDEVCAPS, dwLineNameOffset, 36);
    CHECK(LINEDEVCAPS, dwStringFormat, 40);
    CHECK(LINEDEVCAPS, dwAddressModes, 44);
    CHECK(LINEDEVCAPS, dwNumAddresses, 48);
    CHECK(LINEDEVCAPS, dwBearerModes, 52);
    CHECK(LINEDEVCAPS, dwMaxRate, 56);
    CHECK(LINEDEVCAPS, dwMediaModes, 60);
    CHECK(LINEDEVCAPS, dwGenerateToneModes, 64);
    CHECK(LINEDEVCAPS, dwGenerateToneMaxNumFreq, 68);
    CHECK(LINEDEVCAPS, dwGenerateDigitModes, 72);
    CHECK(LINEDEVCAPS, dwMonitorToneMaxNumFreq, 76);
    CHECK(LINEDEVCAPS, dwMonitorToneMaxNumEntries, 80);
    CHECK(LINEDEVCAPS, dwMonitorDigitModes, 84);
    CHECK(LINEDEVCAPS, dwGatherDigitsMinTimeout, 88);
    CHECK(LINEDEVCAPS, dwGatherDigitsMaxTimeout, 92);
    CHECK(LINEDEVCAPS, dwMedCtlDigitMaxListSize, 96);
    CHECK(LINEDEVCAPS, dwMedCtlMediaMaxListSize, 100);
    CHECK(LINEDEVCAPS, dwMedCtlToneMaxListSize, 104);
    CHECK(LINEDEVCAPS, dwMedCtlCallStateMaxListSize, 108);
    CHECK(LINEDEVCAPS, dwDevCapFlags, 112);
    CHECK(LINEDEVCAPS, dwMaxNumActiveCalls, 116);
    CHECK(LINEDEVCAPS, dwAnswerMode, 120);
    CHECK(LINEDEVCAPS, dwRingModes, 124);
    CHECK(LINEDEVCAPS, dwLineStates, 128);
    CHECK(LINEDEVCAPS, dwUUIAcceptSize, 132);
    CHECK(LINEDEVCAPS, dwUUIAnswerSize, 136);
    CHECK(LINEDEVCAPS, dwUUIMakeCallSize, 140);
    CHECK(LINEDEVCAPS, dwUUIDropSize, 144);
    CHECK(LINEDEVCAPS, dwUUISendUserUserInfoSize, 148);
    CHECK(LINEDEVCAPS, dwUUICallInfoSize, 152);
    CHECK(LINEDEVCAPS, MinDialParams, 156);
    CHECK(LINEDEVCAPS, MaxDialParams, 172);
    CHECK(LINEDEVCAPS, DefaultDialParams, 188);
    CHECK(LINEDEVCAPS, dwNumTerminals, 204);
    CHECK(LINEDEVCAPS, dwTerminalCapsSize, 208);
    CHECK(LINEDEVCAPS, dwTerminalCapsOffset, 212);
    CHECK(LINEDEVCAPS, dwTerminalTextEntrySize, 216);
    CHECK(LINEDEVCAPS, dwTerminalTextSize, 220);
    CHECK(LINEDEVCAPS, dwTerminalTextOffset, 224);
    CHECK(LINEDEVCAPS, dwDevSpecificSize, 228);
    CHECK(LINEDEVCAPS, dwDevSpecificOffset, 232);
    CHECK(LINEDEVCAPS, dwLineFeatures, 236);
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    CHECK(LINEDEVCAPS, dwSettableDevStatus, 240);
    CHECK(LINEDEVCAPS, dwDeviceClassesSize, 244);
    CHECK(LINEDEVCAPS, dwDeviceClassesOffset, 248);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00020002)
    CHECK(LINEDEVCAPS, PermanentLineGuid, 252);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030000)
    CHECK(LINEDEVCAPS, dwAddressTypes, 268);
    CHECK(LINEDEVCAPS, ProtocolGuid, 272);
    CHECK(LINEDEVCAPS, dwAvailableTracking, 288);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(LINEDEVCAPS, 292);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(LINEDEVCAPS, 292);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(LINEDEVCAPS, 268);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(LINEDEVCAPS, 252);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(LINEDEVCAPS, 240);
#endif
    printf("LINEDEVCAPS (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
