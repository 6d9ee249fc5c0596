/*
 * PHONESTATUS: sizeof and the offset of every field against the layout of Microsoft's tapi.h
 * (the Windows SDK's field lists and TAPI_CURRENT_VERSION guards, #pragma pack(1)). The
 * expected numbers were computed from those field lists (DWORD and HLINE 4 bytes,
 * LINEDIALPARAMS, GUID and SYSTEMTIME 16, HANDLE and DWORD_PTR pointer-sized P), not from
 * libtapi's own header. Compile with any TAPI_CURRENT_VERSION.
 */
#include "layout.h"

int main(void)
{
    CHECK(PHONESTATUS, dwTotalSize, 0);
    CHECK(PHONESTATUS, dwNeededSize, 4);
    CHECK(PHONESTATUS, dwUsedSize, 8);
    CHECK(PHONESTATUS, dwStatusFlags, 12);
    CHECK(PHONESTATUS, dwNumOwners, 16);
    CHECK(PHONESTATUS, dwNumMonitors, 20);
    CHECK(PHONESTATUS, dwRingMode, 24);
    CHECK(PHONESTATUS, dwRingVolume, 28);
    CHECK(PHONESTATUS, dwHandsetHookSwitchMode, 32);
    CHECK(PHONESTATUS, dwHandsetVolume, 36);
    CHECK(PHONESTATUS, dwHandsetGain, 40);
    CHECK(PHONESTATUS, dwSpeakerHookSwitchMode, 44);
    CHECK(PHONESTATUS, dwSpeakerVolume, 48);
    CHECK(PHONESTATUS, dwSpeakerGain, 52);
    CHECK(PHONESTATUS, dwHeadsetHookSwitchMode, 56);
    CHECK(PHONESTATUS, dwHeadsetVolume, 60);
    CHECK(PHONESTATUS, dwHeadsetGain, 64);
    CHECK(PHONESTATUS, dwDisplaySize, 68);
    CHECK(PHONESTATUS, dwDisplayOffset, 72);
    CHECK(PHONESTATUS, dwLampModesSize, 76);
    CHECK(PHONESTATUS, dwLampModesOffset, 80);
    CHECK(PHONESTATUS, dwOwnerNameSize, 84);
    CHECK(PHONESTATUS, dwOwnerNameOffset, 88);
    CHECK(PHONESTATUS, dwDevSpecificSize, 92);
    CHECK(PHONESTATUS, dwDevSpecificOffset, 96);
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    CHECK(PHONESTATUS, dwPhoneFeatures, 100);
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    SIZE(PHONESTATUS, 104);
#elif (TAPI_CURRENT_VERSION >= 0x00030000)
    SIZE(PHONESTATUS, 104);
#elif (TAPI_CURRENT_VERSION >= 0x00020002)
    SIZE(PHONESTATUS, 104);
#elif (TAPI_CURRENT_VERSION >= 0x00020000)
    SIZE(PHONESTATUS, 104);
#elif (TAPI_CURRENT_VERSION >= 0x00010004)
    SIZE(PHONESTATUS, 100);
#endif
    printf("PHONESTATUS (TAPI_CURRENT_VERSION 0x%08X): %d checks, %d failures\n",
           (unsigned)TAPI_CURRENT_VERSION, checked, failures);
    return failures != 0;
}
