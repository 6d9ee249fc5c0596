/*
 * PHONECAPS: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(PHONECAPS, dwTotalSize, 0);
    CHECK(PHONECAPS, dwNeededSize, 4);
    CHECK(PHONECAPS, dwUsedSize, 8);
    CHECK(PHONECAPS, dwProviderInfoSize, 12);
    CHECK(PHONECAPS, dwProviderInfoOffset, 16);
    CHECK(PHONECAPS, dwPhoneInfoSize, 20);
    CHECK(PHONECAPS, dwPhoneInfoOffset, 24);
    CHECK(PHONECAPS, dwPermanentPhoneID, 28);
    CHECK(PHONECAPS, dwPhoneNameSize, 32);
    CHECK(PHONECAPS, dwPhoneNameOffset, 36);
    CHECK(PHONECAPS, dwStringFormat, 40);
    CHECK(PHONECAPS, dwPhoneStates, 44);
    CHECK(PHONECAPS, dwHookSwitchDevs, 48);
    CHECK(PHONECAPS, dwHandsetHookSwitchModes, 52);
    CHECK(PHONECAPS, dwSpeakerHookSwitchModes, 56);
    CHECK(PHONECAPS, dwHeadsetHookSwitchModes, 60);
    CHECK(PHONECAPS, dwVolumeFlags, 64);
    CHECK(PHONECAPS, dwGainFlags, 68);
    CHECK(PHONECAPS, dwDisplayNumRows, 72);
    CHECK(PHONECAPS, dwDisplayNumColumns, 76);
    CHECK(PHONECAPS, dwNumRingModes, 80);
    CHECK(PHONECAPS, dwNumButtonLamps, 84);
    CHECK(PHONECAPS, dwButtonModesSize, 88);
    CHECK(PHONECAPS, dwButtonModesOffset, 92);
    CHECK(PHONECAPS, dwButtonFunctionsSize, 96);
    CHECK(PHONECAPS, dwButtonFunctionsOffset, 100);
    CHECK(PHONECAPS, dwLampModesSize, 104);
    CHECK(PHONECAPS, dwLampModesOffset, 108);
    CHECK(PHONECAPS, dwNumSetData, 112);
    CHECK(PHONECAPS, dwSetDataSize, 116);
    CHECK(PHONECAPS, dwSetDataOffset, 120);
    CHECK(PHONECAPS, dwNumGetData, 124);
    CHECK(PHONECAPS, dwGetDataSize, 128);
    CHECK(PHONECAPS, dwGetDataOffset, 132);
    CHECK(PHONECAPS, dwDevSpecificSize, 136);
    CHECK(PHONECAPS, dwDevSpecificOffset, 140);
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    CHECK(PHONECAPS, dwDeviceClassesSize, 144);
    CHECK(PHONECAPS, dwDeviceClassesOffset, 148);
    CHECK(PHONECAPS, dwPhoneFeatures, 152);
    CHECK(PHONECAPS, dwSettableHandsetHookSwitchModes, 156);
    CHECK(PHONECAPS, dwSettableSpeakerHookSwitchModes, 160);
    CHECK(PHONECAPS, dwSettableHeadsetHookSwitchModes, 164);
    CHECK(PHONECAPS, dwMonitoredHandsetHookSwitchModes, 168);
    CHECK(PHONECAPS, dwMonitoredSpeakerHookSwitchModes, 172);
    CHECK(PHONECAPS, dwMonitoredHeadsetHookSwitchModes, 176);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00020002)
    CHECK(PHONECAPS, PermanentPhoneGuid, 180);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(PHONECAPS, 196);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(PHONECAPS, 196);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(PHONECAPS, 196);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(PHONECAPS, 180);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(PHONECAPS, 144);
#endif
    printf("PHONECAPS (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
