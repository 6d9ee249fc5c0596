/*
 * tapi.h - Microsoft TAPI 2.x line and phone functions for Linux.
 *
 * Implemented by libtapi (libtapi.so / libtapi.a), a client of the tapigw
 * gateway's JSON-RPC API.  Names, values, structure layouts (#pragma pack(1))
 * and signatures are Microsoft's, so a program written against Microsoft's
 * TAPI documentation for these functions compiles unchanged:
 *
 *     cc prog.c -I libtapi/include -L target/release -ltapi
 *
 * Differences from Windows (see libtapi/README.md):
 *   - No windows.h: the Win32 types TAPI needs are defined below (define
 *     TAPI_NO_WIN32_TYPES if your program already has them).  LONG and DWORD
 *     are 32-bit on every platform, as on Windows; DWORD_PTR, HANDLE and
 *     pointers are pointer-sized.
 *   - Only the ANSI functions exist: "lineMakeCall" means lineMakeCallA;
 *     building with UNICODE defined stops with an error.
 *   - LINEINITIALIZEEXOPTION_USEHIDDENWINDOW calls your LINECALLBACK from one
 *     library thread per hLineApp (there is no window and no message pump).
 *   - LINEINITIALIZEEXOPTION_USEEVENT: Handles.hEvent is a pollable file
 *     descriptor (an eventfd), readable while messages are queued:
 *     int fd = TAPI_EVENT_FD(params.Handles.hEvent);  poll() it, then call
 *     lineGetMessage.  Do not read or close it; lineShutdown closes it.
 *   - LINEINITIALIZEEXOPTION_USECOMPLETIONPORT: LINEERR_INVALPARAM.
 *   - The gateway is found through the environment: TAPIGW_API (host:port,
 *     default 127.0.0.1:8274) and TAPIGW_TOKEN.
 */
#ifndef TAPI_H
#define TAPI_H

#include <stddef.h>
#include <stdint.h>

#ifndef TAPI_CURRENT_VERSION
#define TAPI_CURRENT_VERSION 0x00020002
#endif

#ifdef UNICODE
#error "libtapi implements the ANSI (A) TAPI functions only: build without UNICODE"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Win32 types used by TAPI ------------------------------------------ */

#ifndef TAPI_NO_WIN32_TYPES
typedef uint32_t DWORD;
typedef int32_t LONG;
typedef uint16_t WORD;
typedef uint8_t BYTE;
typedef int BOOL;
typedef uintptr_t DWORD_PTR;
typedef uintptr_t WPARAM;
typedef void *HANDLE;
typedef void *HINSTANCE;
typedef void *HWND;
typedef void *HICON;
typedef void *LPVOID;
typedef char *LPSTR;
typedef const char *LPCSTR;
typedef uint16_t WCHAR;
typedef WCHAR *LPWSTR;
typedef const WCHAR *LPCWSTR;
typedef DWORD *LPDWORD;
typedef HICON *LPHICON;

typedef struct _GUID {
    DWORD Data1;
    WORD Data2;
    WORD Data3;
    BYTE Data4[8];
} GUID, *LPGUID;

typedef struct _SYSTEMTIME {
    WORD wYear;
    WORD wMonth;
    WORD wDayOfWeek;
    WORD wDay;
    WORD wHour;
    WORD wMinute;
    WORD wSecond;
    WORD wMilliseconds;
} SYSTEMTIME, *LPSYSTEMTIME;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef INFINITE
#define INFINITE 0xFFFFFFFF
#endif
#endif /* TAPI_NO_WIN32_TYPES */

#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef WINAPI
#define WINAPI
#endif
#ifndef FAR
#define FAR
#endif

/* The file descriptor behind a USEEVENT hEvent (libtapi extension). */
#define TAPI_EVENT_FD(h) ((int)(intptr_t)(h))

/* ---- TAPI handles: 32-bit, as in Microsoft's DECLARE_OPAQUE32 ----------- */

typedef DWORD HCALL, *LPHCALL;
typedef DWORD HLINE, *LPHLINE;
typedef DWORD HPHONE, *LPHPHONE;
typedef DWORD HLINEAPP, *LPHLINEAPP;
typedef DWORD HPHONEAPP, *LPHPHONEAPP;

typedef void (CALLBACK *LINECALLBACK)(DWORD hDevice, DWORD dwMessage,
                                      DWORD_PTR dwInstance, DWORD_PTR dwParam1,
                                      DWORD_PTR dwParam2, DWORD_PTR dwParam3);
typedef void (CALLBACK *PHONECALLBACK)(DWORD hDevice, DWORD dwMessage,
                                       DWORD_PTR dwInstance, DWORD_PTR dwParam1,
                                       DWORD_PTR dwParam2, DWORD_PTR dwParam3);
typedef LINECALLBACK LPLINECALLBACK;
typedef PHONECALLBACK LPPHONECALLBACK;

/* ---- Constants (Microsoft's names and values) --------------------------- */

/* Messages (LINEMESSAGE/PHONEMESSAGE dwMessageID, LINECALLBACK dwMessage) */
#define LINE_ADDRESSSTATE                            0
#define LINE_CALLINFO                                1
#define LINE_CALLSTATE                               2
#define LINE_CLOSE                                   3
#define LINE_DEVSPECIFIC                             4
#define LINE_DEVSPECIFICFEATURE                      5
#define LINE_GATHERDIGITS                            6
#define LINE_GENERATE                                7
#define LINE_LINEDEVSTATE                            8
#define LINE_MONITORDIGITS                           9
#define LINE_MONITORMEDIA                            10
#define LINE_MONITORTONE                             11
#define LINE_REPLY                                   12
#define LINE_REQUEST                                 13
#define PHONE_BUTTON                                 14
#define PHONE_CLOSE                                  15
#define PHONE_DEVSPECIFIC                            16
#define PHONE_REPLY                                  17
#define PHONE_STATE                                  18
#define LINE_CREATE                                  19
#define PHONE_CREATE                                 20
#define LINE_AGENTSPECIFIC                           21
#define LINE_AGENTSTATUS                             22
#define LINE_APPNEWCALL                              23
#define LINE_PROXYREQUEST                            24
#define LINE_REMOVE                                  25
#define PHONE_REMOVE                                 26
#define LINE_AGENTSESSIONSTATUS                      27
#define LINE_QUEUESTATUS                             28
#define LINE_AGENTSTATUSEX                           29
#define LINE_GROUPSTATUS                             30
#define LINE_PROXYSTATUS                             31
#define LINE_APPNEWCALLHUB                           32
#define LINE_CALLHUBCLOSE                            33
#define LINE_DEVSPECIFICEX                           34

/* Special values */
#define INITIALIZE_NEGOTIATION                       0xFFFFFFFF

/* LINEADDRCAPFLAGS_* */
#define LINEADDRCAPFLAGS_FWDNUMRINGS                 0x00000001
#define LINEADDRCAPFLAGS_PICKUPGROUPID               0x00000002
#define LINEADDRCAPFLAGS_SECURE                      0x00000004
#define LINEADDRCAPFLAGS_BLOCKIDDEFAULT              0x00000008
#define LINEADDRCAPFLAGS_BLOCKIDOVERRIDE             0x00000010
#define LINEADDRCAPFLAGS_DIALED                      0x00000020
#define LINEADDRCAPFLAGS_ORIGOFFHOOK                 0x00000040
#define LINEADDRCAPFLAGS_DESTOFFHOOK                 0x00000080
#define LINEADDRCAPFLAGS_FWDCONSULT                  0x00000100
#define LINEADDRCAPFLAGS_SETUPCONFNULL               0x00000200
#define LINEADDRCAPFLAGS_AUTORECONNECT               0x00000400
#define LINEADDRCAPFLAGS_COMPLETIONID                0x00000800
#define LINEADDRCAPFLAGS_TRANSFERHELD                0x00001000
#define LINEADDRCAPFLAGS_TRANSFERMAKE                0x00002000
#define LINEADDRCAPFLAGS_CONFERENCEHELD              0x00004000
#define LINEADDRCAPFLAGS_CONFERENCEMAKE              0x00008000
#define LINEADDRCAPFLAGS_PARTIALDIAL                 0x00010000
#define LINEADDRCAPFLAGS_FWDSTATUSVALID              0x00020000
#define LINEADDRCAPFLAGS_FWDINTEXTADDR               0x00040000
#define LINEADDRCAPFLAGS_FWDBUSYNAADDR               0x00080000
#define LINEADDRCAPFLAGS_ACCEPTTOALERT               0x00100000
#define LINEADDRCAPFLAGS_CONFDROP                    0x00200000
#define LINEADDRCAPFLAGS_PICKUPCALLWAIT              0x00400000
#define LINEADDRCAPFLAGS_PREDICTIVEDIALER            0x00800000
#define LINEADDRCAPFLAGS_QUEUE                       0x01000000
#define LINEADDRCAPFLAGS_ROUTEPOINT                  0x02000000
#define LINEADDRCAPFLAGS_HOLDMAKESNEW                0x04000000
#define LINEADDRCAPFLAGS_NOINTERNALCALLS             0x08000000
#define LINEADDRCAPFLAGS_NOEXTERNALCALLS             0x10000000
#define LINEADDRCAPFLAGS_SETCALLINGID                0x20000000
#define LINEADDRCAPFLAGS_ACDGROUP                    0x40000000
#define LINEADDRCAPFLAGS_NOPSTNADDRESSTRANSLATION    0x80000000

/* LINEADDRESSMODE_* */
#define LINEADDRESSMODE_ADDRESSID                    0x00000001
#define LINEADDRESSMODE_DIALABLEADDR                 0x00000002

/* LINEADDRESSSHARING_* */
#define LINEADDRESSSHARING_PRIVATE                   0x00000001
#define LINEADDRESSSHARING_BRIDGEDEXCL               0x00000002
#define LINEADDRESSSHARING_BRIDGEDNEW                0x00000004
#define LINEADDRESSSHARING_BRIDGEDSHARED             0x00000008
#define LINEADDRESSSHARING_MONITORED                 0x00000010

/* LINEADDRESSSTATE_* */
#define LINEADDRESSSTATE_OTHER                       0x00000001
#define LINEADDRESSSTATE_DEVSPECIFIC                 0x00000002
#define LINEADDRESSSTATE_INUSEZERO                   0x00000004
#define LINEADDRESSSTATE_INUSEONE                    0x00000008
#define LINEADDRESSSTATE_INUSEMANY                   0x00000010
#define LINEADDRESSSTATE_NUMCALLS                    0x00000020
#define LINEADDRESSSTATE_FORWARD                     0x00000040
#define LINEADDRESSSTATE_TERMINALS                   0x00000080
#define LINEADDRESSSTATE_CAPSCHANGE                  0x00000100

/* LINEADDRESSTYPE_* */
#define LINEADDRESSTYPE_PHONENUMBER                  0x00000001
#define LINEADDRESSTYPE_SDP                          0x00000002
#define LINEADDRESSTYPE_EMAILNAME                    0x00000004
#define LINEADDRESSTYPE_DOMAINNAME                   0x00000008
#define LINEADDRESSTYPE_IPADDRESS                    0x00000010

/* LINEADDRFEATURE_* */
#define LINEADDRFEATURE_FORWARD                      0x00000001
#define LINEADDRFEATURE_MAKECALL                     0x00000002
#define LINEADDRFEATURE_PICKUP                       0x00000004
#define LINEADDRFEATURE_SETMEDIACONTROL              0x00000008
#define LINEADDRFEATURE_SETTERMINAL                  0x00000010
#define LINEADDRFEATURE_SETUPCONF                    0x00000020
#define LINEADDRFEATURE_UNCOMPLETECALL               0x00000040
#define LINEADDRFEATURE_UNPARK                       0x00000080
#define LINEADDRFEATURE_PICKUPHELD                   0x00000100
#define LINEADDRFEATURE_PICKUPGROUP                  0x00000200
#define LINEADDRFEATURE_PICKUPDIRECT                 0x00000400
#define LINEADDRFEATURE_PICKUPWAITING                0x00000800
#define LINEADDRFEATURE_FORWARDFWD                   0x00001000
#define LINEADDRFEATURE_FORWARDDND                   0x00002000

/* LINEANSWERMODE_* */
#define LINEANSWERMODE_NONE                          0x00000001
#define LINEANSWERMODE_DROP                          0x00000002
#define LINEANSWERMODE_HOLD                          0x00000004

/* LINEBEARERMODE_* */
#define LINEBEARERMODE_VOICE                         0x00000001
#define LINEBEARERMODE_SPEECH                        0x00000002
#define LINEBEARERMODE_MULTIUSE                      0x00000004
#define LINEBEARERMODE_DATA                          0x00000008
#define LINEBEARERMODE_ALTSPEECHDATA                 0x00000010
#define LINEBEARERMODE_NONCALLSIGNALING              0x00000020
#define LINEBEARERMODE_PASSTHROUGH                   0x00000040
#define LINEBEARERMODE_RESTRICTEDDATA                0x00000080

/* LINEBUSYMODE_* */
#define LINEBUSYMODE_STATION                         0x00000001
#define LINEBUSYMODE_TRUNK                           0x00000002
#define LINEBUSYMODE_UNKNOWN                         0x00000004
#define LINEBUSYMODE_UNAVAIL                         0x00000008

/* LINECALLCOMPLCOND_* */
#define LINECALLCOMPLCOND_BUSY                       0x00000001
#define LINECALLCOMPLCOND_NOANSWER                   0x00000002

/* LINECALLCOMPLMODE_* */
#define LINECALLCOMPLMODE_CAMPON                     0x00000001
#define LINECALLCOMPLMODE_CALLBACK                   0x00000002
#define LINECALLCOMPLMODE_INTRUDE                    0x00000004
#define LINECALLCOMPLMODE_MESSAGE                    0x00000008

/* LINECALLFEATURE_* */
#define LINECALLFEATURE_ACCEPT                       0x00000001
#define LINECALLFEATURE_ADDTOCONF                    0x00000002
#define LINECALLFEATURE_ANSWER                       0x00000004
#define LINECALLFEATURE_BLINDTRANSFER                0x00000008
#define LINECALLFEATURE_COMPLETECALL                 0x00000010
#define LINECALLFEATURE_COMPLETETRANSF               0x00000020
#define LINECALLFEATURE_DIAL                         0x00000040
#define LINECALLFEATURE_DROP                         0x00000080
#define LINECALLFEATURE_GATHERDIGITS                 0x00000100
#define LINECALLFEATURE_GENERATEDIGITS               0x00000200
#define LINECALLFEATURE_GENERATETONE                 0x00000400
#define LINECALLFEATURE_HOLD                         0x00000800
#define LINECALLFEATURE_MONITORDIGITS                0x00001000
#define LINECALLFEATURE_MONITORMEDIA                 0x00002000
#define LINECALLFEATURE_MONITORTONES                 0x00004000
#define LINECALLFEATURE_PARK                         0x00008000
#define LINECALLFEATURE_PREPAREADDCONF               0x00010000
#define LINECALLFEATURE_REDIRECT                     0x00020000
#define LINECALLFEATURE_REMOVEFROMCONF               0x00040000
#define LINECALLFEATURE_SECURECALL                   0x00080000
#define LINECALLFEATURE_SENDUSERUSER                 0x00100000
#define LINECALLFEATURE_SETCALLPARAMS                0x00200000
#define LINECALLFEATURE_SETMEDIACONTROL              0x00400000
#define LINECALLFEATURE_SETTERMINAL                  0x00800000
#define LINECALLFEATURE_SETUPCONF                    0x01000000
#define LINECALLFEATURE_SETUPTRANSFER                0x02000000
#define LINECALLFEATURE_SWAPHOLD                     0x04000000
#define LINECALLFEATURE_UNHOLD                       0x08000000
#define LINECALLFEATURE_RELEASEUSERUSERINFO          0x10000000
#define LINECALLFEATURE_SETTREATMENT                 0x20000000
#define LINECALLFEATURE_SETQOS                       0x40000000
#define LINECALLFEATURE_SETCALLDATA                  0x80000000

/* LINECALLFEATURE2_* */
#define LINECALLFEATURE2_NOHOLDCONFERENCE            0x00000001
#define LINECALLFEATURE2_ONESTEPTRANSFER             0x00000002
#define LINECALLFEATURE2_COMPLCAMPON                 0x00000004
#define LINECALLFEATURE2_COMPLCALLBACK               0x00000008
#define LINECALLFEATURE2_COMPLINTRUDE                0x00000010
#define LINECALLFEATURE2_COMPLMESSAGE                0x00000020
#define LINECALLFEATURE2_TRANSFERNORM                0x00000040
#define LINECALLFEATURE2_TRANSFERCONF                0x00000080
#define LINECALLFEATURE2_PARKDIRECT                  0x00000100
#define LINECALLFEATURE2_PARKNONDIRECT               0x00000200

/* LINECALLINFOSTATE_* */
#define LINECALLINFOSTATE_OTHER                      0x00000001
#define LINECALLINFOSTATE_DEVSPECIFIC                0x00000002
#define LINECALLINFOSTATE_BEARERMODE                 0x00000004
#define LINECALLINFOSTATE_RATE                       0x00000008
#define LINECALLINFOSTATE_MEDIAMODE                  0x00000010
#define LINECALLINFOSTATE_APPSPECIFIC                0x00000020
#define LINECALLINFOSTATE_CALLID                     0x00000040
#define LINECALLINFOSTATE_RELATEDCALLID              0x00000080
#define LINECALLINFOSTATE_ORIGIN                     0x00000100
#define LINECALLINFOSTATE_REASON                     0x00000200
#define LINECALLINFOSTATE_COMPLETIONID               0x00000400
#define LINECALLINFOSTATE_NUMOWNERINCR               0x00000800
#define LINECALLINFOSTATE_NUMOWNERDECR               0x00001000
#define LINECALLINFOSTATE_NUMMONITORS                0x00002000
#define LINECALLINFOSTATE_TRUNK                      0x00004000
#define LINECALLINFOSTATE_CALLERID                   0x00008000
#define LINECALLINFOSTATE_CALLEDID                   0x00010000
#define LINECALLINFOSTATE_CONNECTEDID                0x00020000
#define LINECALLINFOSTATE_REDIRECTIONID              0x00040000
#define LINECALLINFOSTATE_REDIRECTINGID              0x00080000
#define LINECALLINFOSTATE_DISPLAY                    0x00100000
#define LINECALLINFOSTATE_USERUSERINFO               0x00200000
#define LINECALLINFOSTATE_HIGHLEVELCOMP              0x00400000
#define LINECALLINFOSTATE_LOWLEVELCOMP               0x00800000
#define LINECALLINFOSTATE_CHARGINGINFO               0x01000000
#define LINECALLINFOSTATE_TERMINAL                   0x02000000
#define LINECALLINFOSTATE_DIALPARAMS                 0x04000000
#define LINECALLINFOSTATE_MONITORMODES               0x08000000
#define LINECALLINFOSTATE_TREATMENT                  0x10000000
#define LINECALLINFOSTATE_QOS                        0x20000000
#define LINECALLINFOSTATE_CALLDATA                   0x40000000

/* LINECALLORIGIN_* */
#define LINECALLORIGIN_OUTBOUND                      0x00000001
#define LINECALLORIGIN_INTERNAL                      0x00000002
#define LINECALLORIGIN_EXTERNAL                      0x00000004
#define LINECALLORIGIN_UNKNOWN                       0x00000010
#define LINECALLORIGIN_UNAVAIL                       0x00000020
#define LINECALLORIGIN_CONFERENCE                    0x00000040
#define LINECALLORIGIN_INBOUND                       0x00000080

/* LINECALLPARAMFLAGS_* */
#define LINECALLPARAMFLAGS_SECURE                    0x00000001
#define LINECALLPARAMFLAGS_IDLE                      0x00000002
#define LINECALLPARAMFLAGS_BLOCKID                   0x00000004
#define LINECALLPARAMFLAGS_ORIGOFFHOOK               0x00000008
#define LINECALLPARAMFLAGS_DESTOFFHOOK               0x00000010
#define LINECALLPARAMFLAGS_NOHOLDCONFERENCE          0x00000020
#define LINECALLPARAMFLAGS_PREDICTIVEDIAL            0x00000040
#define LINECALLPARAMFLAGS_ONESTEPTRANSFER           0x00000080

/* LINECALLPARTYID_* */
#define LINECALLPARTYID_BLOCKED                      0x00000001
#define LINECALLPARTYID_OUTOFAREA                    0x00000002
#define LINECALLPARTYID_NAME                         0x00000004
#define LINECALLPARTYID_ADDRESS                      0x00000008
#define LINECALLPARTYID_PARTIAL                      0x00000010
#define LINECALLPARTYID_UNKNOWN                      0x00000020
#define LINECALLPARTYID_UNAVAIL                      0x00000040

/* LINECALLPRIVILEGE_* */
#define LINECALLPRIVILEGE_NONE                       0x00000001
#define LINECALLPRIVILEGE_MONITOR                    0x00000002
#define LINECALLPRIVILEGE_OWNER                      0x00000004

/* LINECALLREASON_* */
#define LINECALLREASON_DIRECT                        0x00000001
#define LINECALLREASON_FWDBUSY                       0x00000002
#define LINECALLREASON_FWDNOANSWER                   0x00000004
#define LINECALLREASON_FWDUNCOND                     0x00000008
#define LINECALLREASON_PICKUP                        0x00000010
#define LINECALLREASON_UNPARK                        0x00000020
#define LINECALLREASON_REDIRECT                      0x00000040
#define LINECALLREASON_CALLCOMPLETION                0x00000080
#define LINECALLREASON_TRANSFER                      0x00000100
#define LINECALLREASON_REMINDER                      0x00000200
#define LINECALLREASON_UNKNOWN                       0x00000400
#define LINECALLREASON_UNAVAIL                       0x00000800
#define LINECALLREASON_INTRUDE                       0x00001000
#define LINECALLREASON_PARKED                        0x00002000
#define LINECALLREASON_CAMPEDON                      0x00004000
#define LINECALLREASON_ROUTEREQUEST                  0x00008000

/* LINECALLSELECT_* */
#define LINECALLSELECT_LINE                          0x00000001
#define LINECALLSELECT_ADDRESS                       0x00000002
#define LINECALLSELECT_CALL                          0x00000004
#define LINECALLSELECT_DEVICEID                      0x00000008
#define LINECALLSELECT_CALLID                        0x00000010

/* LINECALLSTATE_* */
#define LINECALLSTATE_IDLE                           0x00000001
#define LINECALLSTATE_OFFERING                       0x00000002
#define LINECALLSTATE_ACCEPTED                       0x00000004
#define LINECALLSTATE_DIALTONE                       0x00000008
#define LINECALLSTATE_DIALING                        0x00000010
#define LINECALLSTATE_RINGBACK                       0x00000020
#define LINECALLSTATE_BUSY                           0x00000040
#define LINECALLSTATE_SPECIALINFO                    0x00000080
#define LINECALLSTATE_CONNECTED                      0x00000100
#define LINECALLSTATE_PROCEEDING                     0x00000200
#define LINECALLSTATE_ONHOLD                         0x00000400
#define LINECALLSTATE_CONFERENCED                    0x00000800
#define LINECALLSTATE_ONHOLDPENDCONF                 0x00001000
#define LINECALLSTATE_ONHOLDPENDTRANSFER             0x00002000
#define LINECALLSTATE_DISCONNECTED                   0x00004000
#define LINECALLSTATE_UNKNOWN                        0x00008000

/* LINECALLTREATMENT_* */
#define LINECALLTREATMENT_SILENCE                    0x00000001
#define LINECALLTREATMENT_RINGBACK                   0x00000002
#define LINECALLTREATMENT_BUSY                       0x00000003
#define LINECALLTREATMENT_MUSIC                      0x00000004

/* LINECONNECTEDMODE_* */
#define LINECONNECTEDMODE_ACTIVE                     0x00000001
#define LINECONNECTEDMODE_INACTIVE                   0x00000002
#define LINECONNECTEDMODE_ACTIVEHELD                 0x00000004
#define LINECONNECTEDMODE_INACTIVEHELD               0x00000008
#define LINECONNECTEDMODE_CONFIRMED                  0x00000010

/* LINEDEVCAPFLAGS_* */
#define LINEDEVCAPFLAGS_CROSSADDRCONF                0x00000001
#define LINEDEVCAPFLAGS_HIGHLEVCOMP                  0x00000002
#define LINEDEVCAPFLAGS_LOWLEVCOMP                   0x00000004
#define LINEDEVCAPFLAGS_MEDIACONTROL                 0x00000008
#define LINEDEVCAPFLAGS_MULTIPLEADDR                 0x00000010
#define LINEDEVCAPFLAGS_CLOSEDROP                    0x00000020
#define LINEDEVCAPFLAGS_DIALBILLING                  0x00000040
#define LINEDEVCAPFLAGS_DIALQUIET                    0x00000080
#define LINEDEVCAPFLAGS_DIALDIALTONE                 0x00000100
#define LINEDEVCAPFLAGS_MSP                          0x00000200
#define LINEDEVCAPFLAGS_CALLHUB                      0x00000400
#define LINEDEVCAPFLAGS_CALLHUBTRACKING              0x00000800
#define LINEDEVCAPFLAGS_PRIVATEOBJECTS               0x00001000
#define LINEDEVCAPFLAGS_LOCAL                        0x00002000

/* LINEDEVSTATE_* */
#define LINEDEVSTATE_OTHER                           0x00000001
#define LINEDEVSTATE_RINGING                         0x00000002
#define LINEDEVSTATE_CONNECTED                       0x00000004
#define LINEDEVSTATE_DISCONNECTED                    0x00000008
#define LINEDEVSTATE_MSGWAITON                       0x00000010
#define LINEDEVSTATE_MSGWAITOFF                      0x00000020
#define LINEDEVSTATE_INSERVICE                       0x00000040
#define LINEDEVSTATE_OUTOFSERVICE                    0x00000080
#define LINEDEVSTATE_MAINTENANCE                     0x00000100
#define LINEDEVSTATE_OPEN                            0x00000200
#define LINEDEVSTATE_CLOSE                           0x00000400
#define LINEDEVSTATE_NUMCALLS                        0x00000800
#define LINEDEVSTATE_NUMCOMPLETIONS                  0x00001000
#define LINEDEVSTATE_TERMINALS                       0x00002000
#define LINEDEVSTATE_ROAMMODE                        0x00004000
#define LINEDEVSTATE_BATTERY                         0x00008000
#define LINEDEVSTATE_SIGNAL                          0x00010000
#define LINEDEVSTATE_DEVSPECIFIC                     0x00020000
#define LINEDEVSTATE_REINIT                          0x00040000
#define LINEDEVSTATE_LOCK                            0x00080000
#define LINEDEVSTATE_CAPSCHANGE                      0x00100000
#define LINEDEVSTATE_CONFIGCHANGE                    0x00200000
#define LINEDEVSTATE_TRANSLATECHANGE                 0x00400000
#define LINEDEVSTATE_COMPLCANCEL                     0x00800000
#define LINEDEVSTATE_REMOVED                         0x01000000

/* LINEDEVSTATUSFLAGS_* */
#define LINEDEVSTATUSFLAGS_CONNECTED                 0x00000001
#define LINEDEVSTATUSFLAGS_MSGWAIT                   0x00000002
#define LINEDEVSTATUSFLAGS_INSERVICE                 0x00000004
#define LINEDEVSTATUSFLAGS_LOCKED                    0x00000008

/* LINEDIALTONEMODE_* */
#define LINEDIALTONEMODE_NORMAL                      0x00000001
#define LINEDIALTONEMODE_SPECIAL                     0x00000002
#define LINEDIALTONEMODE_INTERNAL                    0x00000004
#define LINEDIALTONEMODE_EXTERNAL                    0x00000008
#define LINEDIALTONEMODE_UNKNOWN                     0x00000010
#define LINEDIALTONEMODE_UNAVAIL                     0x00000020

/* LINEDIGITMODE_* */
#define LINEDIGITMODE_PULSE                          0x00000001
#define LINEDIGITMODE_DTMF                           0x00000002
#define LINEDIGITMODE_DTMFEND                        0x00000004

/* LINEDISCONNECTMODE_* */
#define LINEDISCONNECTMODE_NORMAL                    0x00000001
#define LINEDISCONNECTMODE_UNKNOWN                   0x00000002
#define LINEDISCONNECTMODE_REJECT                    0x00000004
#define LINEDISCONNECTMODE_PICKUP                    0x00000008
#define LINEDISCONNECTMODE_FORWARDED                 0x00000010
#define LINEDISCONNECTMODE_BUSY                      0x00000020
#define LINEDISCONNECTMODE_NOANSWER                  0x00000040
#define LINEDISCONNECTMODE_BADADDRESS                0x00000080
#define LINEDISCONNECTMODE_UNREACHABLE               0x00000100
#define LINEDISCONNECTMODE_CONGESTION                0x00000200
#define LINEDISCONNECTMODE_INCOMPATIBLE              0x00000400
#define LINEDISCONNECTMODE_UNAVAIL                   0x00000800
#define LINEDISCONNECTMODE_NODIALTONE                0x00001000
#define LINEDISCONNECTMODE_NUMBERCHANGED             0x00002000
#define LINEDISCONNECTMODE_OUTOFORDER                0x00004000
#define LINEDISCONNECTMODE_TEMPFAILURE               0x00008000
#define LINEDISCONNECTMODE_QOSUNAVAIL                0x00010000
#define LINEDISCONNECTMODE_BLOCKED                   0x00020000
#define LINEDISCONNECTMODE_DONOTDISTURB              0x00040000
#define LINEDISCONNECTMODE_CANCELLED                 0x00080000
#define LINEDISCONNECTMODE_DESTINATIONBARRED         0x00100000
#define LINEDISCONNECTMODE_FDNRESTRICT               0x00200000

/* LINEERR_* */
#define LINEERR_ALLOCATED                            0x80000001
#define LINEERR_BADDEVICEID                          0x80000002
#define LINEERR_BEARERMODEUNAVAIL                    0x80000003
#define LINEERR_CALLUNAVAIL                          0x80000005
#define LINEERR_COMPLETIONOVERRUN                    0x80000006
#define LINEERR_CONFERENCEFULL                       0x80000007
#define LINEERR_DIALBILLING                          0x80000008
#define LINEERR_DIALDIALTONE                         0x80000009
#define LINEERR_DIALPROMPT                           0x8000000A
#define LINEERR_DIALQUIET                            0x8000000B
#define LINEERR_INCOMPATIBLEAPIVERSION               0x8000000C
#define LINEERR_INCOMPATIBLEEXTVERSION               0x8000000D
#define LINEERR_INIFILECORRUPT                       0x8000000E
#define LINEERR_INUSE                                0x8000000F
#define LINEERR_INVALADDRESS                         0x80000010
#define LINEERR_INVALADDRESSID                       0x80000011
#define LINEERR_INVALADDRESSMODE                     0x80000012
#define LINEERR_INVALADDRESSSTATE                    0x80000013
#define LINEERR_INVALAPPHANDLE                       0x80000014
#define LINEERR_INVALAPPNAME                         0x80000015
#define LINEERR_INVALBEARERMODE                      0x80000016
#define LINEERR_INVALCALLCOMPLMODE                   0x80000017
#define LINEERR_INVALCALLHANDLE                      0x80000018
#define LINEERR_INVALCALLPARAMS                      0x80000019
#define LINEERR_INVALCALLPRIVILEGE                   0x8000001A
#define LINEERR_INVALCALLSELECT                      0x8000001B
#define LINEERR_INVALCALLSTATE                       0x8000001C
#define LINEERR_INVALCALLSTATELIST                   0x8000001D
#define LINEERR_INVALCARD                            0x8000001E
#define LINEERR_INVALCOMPLETIONID                    0x8000001F
#define LINEERR_INVALCONFCALLHANDLE                  0x80000020
#define LINEERR_INVALCONSULTCALLHANDLE               0x80000021
#define LINEERR_INVALCOUNTRYCODE                     0x80000022
#define LINEERR_INVALDEVICECLASS                     0x80000023
#define LINEERR_INVALDEVICEHANDLE                    0x80000024
#define LINEERR_INVALDIALPARAMS                      0x80000025
#define LINEERR_INVALDIGITLIST                       0x80000026
#define LINEERR_INVALDIGITMODE                       0x80000027
#define LINEERR_INVALDIGITS                          0x80000028
#define LINEERR_INVALEXTVERSION                      0x80000029
#define LINEERR_INVALGROUPID                         0x8000002A
#define LINEERR_INVALLINEHANDLE                      0x8000002B
#define LINEERR_INVALLINESTATE                       0x8000002C
#define LINEERR_INVALLOCATION                        0x8000002D
#define LINEERR_INVALMEDIALIST                       0x8000002E
#define LINEERR_INVALMEDIAMODE                       0x8000002F
#define LINEERR_INVALMESSAGEID                       0x80000030
#define LINEERR_INVALPARAM                           0x80000032
#define LINEERR_INVALPARKID                          0x80000033
#define LINEERR_INVALPARKMODE                        0x80000034
#define LINEERR_INVALPOINTER                         0x80000035
#define LINEERR_INVALPRIVSELECT                      0x80000036
#define LINEERR_INVALRATE                            0x80000037
#define LINEERR_INVALREQUESTMODE                     0x80000038
#define LINEERR_INVALTERMINALID                      0x80000039
#define LINEERR_INVALTERMINALMODE                    0x8000003A
#define LINEERR_INVALTIMEOUT                         0x8000003B
#define LINEERR_INVALTONE                            0x8000003C
#define LINEERR_INVALTONELIST                        0x8000003D
#define LINEERR_INVALTONEMODE                        0x8000003E
#define LINEERR_INVALTRANSFERMODE                    0x8000003F
#define LINEERR_LINEMAPPERFAILED                     0x80000040
#define LINEERR_NOCONFERENCE                         0x80000041
#define LINEERR_NODEVICE                             0x80000042
#define LINEERR_NODRIVER                             0x80000043
#define LINEERR_NOMEM                                0x80000044
#define LINEERR_NOREQUEST                            0x80000045
#define LINEERR_NOTOWNER                             0x80000046
#define LINEERR_NOTREGISTERED                        0x80000047
#define LINEERR_OPERATIONFAILED                      0x80000048
#define LINEERR_OPERATIONUNAVAIL                     0x80000049
#define LINEERR_RATEUNAVAIL                          0x8000004A
#define LINEERR_RESOURCEUNAVAIL                      0x8000004B
#define LINEERR_REQUESTOVERRUN                       0x8000004C
#define LINEERR_STRUCTURETOOSMALL                    0x8000004D
#define LINEERR_TARGETNOTFOUND                       0x8000004E
#define LINEERR_TARGETSELF                           0x8000004F
#define LINEERR_UNINITIALIZED                        0x80000050
#define LINEERR_USERUSERINFOTOOBIG                   0x80000051
#define LINEERR_REINIT                               0x80000052
#define LINEERR_ADDRESSBLOCKED                       0x80000053
#define LINEERR_BILLINGREJECTED                      0x80000054
#define LINEERR_INVALFEATURE                         0x80000055
#define LINEERR_NOMULTIPLEINSTANCE                   0x80000056
#define LINEERR_INVALAGENTID                         0x80000057
#define LINEERR_INVALAGENTGROUP                      0x80000058
#define LINEERR_INVALPASSWORD                        0x80000059
#define LINEERR_INVALAGENTSTATE                      0x8000005A
#define LINEERR_INVALAGENTACTIVITY                   0x8000005B
#define LINEERR_DIALVOICEDETECT                      0x8000005C
#define LINEERR_USERCANCELLED                        0x8000005D
#define LINEERR_INVALADDRESSTYPE                     0x8000005E
#define LINEERR_INVALAGENTSESSIONSTATE               0x8000005F
#define LINEERR_DISCONNECTED                         0x80000060
#define LINEERR_SERVICE_NOT_RUNNING                  0x80000061

/* LINEFEATURE_* */
#define LINEFEATURE_DEVSPECIFIC                      0x00000001
#define LINEFEATURE_DEVSPECIFICFEAT                  0x00000002
#define LINEFEATURE_FORWARD                          0x00000004
#define LINEFEATURE_MAKECALL                         0x00000008
#define LINEFEATURE_SETMEDIACONTROL                  0x00000010
#define LINEFEATURE_SETTERMINAL                      0x00000020
#define LINEFEATURE_SETDEVSTATUS                     0x00000040
#define LINEFEATURE_FORWARDFWD                       0x00000080
#define LINEFEATURE_FORWARDDND                       0x00000100

/* LINEFORWARDMODE_* */
#define LINEFORWARDMODE_UNCOND                       0x00000001
#define LINEFORWARDMODE_UNCONDINTERNAL               0x00000002
#define LINEFORWARDMODE_UNCONDEXTERNAL               0x00000004
#define LINEFORWARDMODE_UNCONDSPECIFIC               0x00000008
#define LINEFORWARDMODE_BUSY                         0x00000010
#define LINEFORWARDMODE_BUSYINTERNAL                 0x00000020
#define LINEFORWARDMODE_BUSYEXTERNAL                 0x00000040
#define LINEFORWARDMODE_BUSYSPECIFIC                 0x00000080
#define LINEFORWARDMODE_NOANSW                       0x00000100
#define LINEFORWARDMODE_NOANSWINTERNAL               0x00000200
#define LINEFORWARDMODE_NOANSWEXTERNAL               0x00000400
#define LINEFORWARDMODE_NOANSWSPECIFIC               0x00000800
#define LINEFORWARDMODE_BUSYNA                       0x00001000
#define LINEFORWARDMODE_BUSYNAINTERNAL               0x00002000
#define LINEFORWARDMODE_BUSYNAEXTERNAL               0x00004000
#define LINEFORWARDMODE_BUSYNASPECIFIC               0x00008000
#define LINEFORWARDMODE_UNKNOWN                      0x00010000
#define LINEFORWARDMODE_UNAVAIL                      0x00020000

/* LINEGATHERTERM_* */
#define LINEGATHERTERM_BUFFERFULL                    0x00000001
#define LINEGATHERTERM_TERMDIGIT                     0x00000002
#define LINEGATHERTERM_FIRSTTIMEOUT                  0x00000004
#define LINEGATHERTERM_INTERTIMEOUT                  0x00000008
#define LINEGATHERTERM_CANCEL                        0x00000010

/* LINEGENERATETERM_* */
#define LINEGENERATETERM_DONE                        0x00000001
#define LINEGENERATETERM_CANCEL                      0x00000002

/* LINEINITIALIZEEXOPTION_* */
#define LINEINITIALIZEEXOPTION_USEHIDDENWINDOW       0x00000001
#define LINEINITIALIZEEXOPTION_USEEVENT              0x00000002
#define LINEINITIALIZEEXOPTION_USECOMPLETIONPORT     0x00000003
#define LINEINITIALIZEEXOPTION_CALLHUBTRACKING       0x80000000

/* Special values */
#define LINEMAPPER                                   0xFFFFFFFF

/* LINEMEDIAMODE_* */
#define LINEMEDIAMODE_UNKNOWN                        0x00000002
#define LINEMEDIAMODE_INTERACTIVEVOICE               0x00000004
#define LINEMEDIAMODE_AUTOMATEDVOICE                 0x00000008
#define LINEMEDIAMODE_DATAMODEM                      0x00000010
#define LINEMEDIAMODE_G3FAX                          0x00000020
#define LINEMEDIAMODE_TDD                            0x00000040
#define LINEMEDIAMODE_G4FAX                          0x00000080
#define LINEMEDIAMODE_DIGITALDATA                    0x00000100
#define LINEMEDIAMODE_TELETEX                        0x00000200
#define LINEMEDIAMODE_VIDEOTEX                       0x00000400
#define LINEMEDIAMODE_TELEX                          0x00000800
#define LINEMEDIAMODE_MIXED                          0x00001000
#define LINEMEDIAMODE_ADSI                           0x00002000
#define LINEMEDIAMODE_VOICEVIEW                      0x00004000
#define LINEMEDIAMODE_VIDEO                          0x00008000
#define LAST_LINEMEDIAMODE                           0x00008000

/* LINEOFFERINGMODE_* */
#define LINEOFFERINGMODE_ACTIVE                      0x00000001
#define LINEOFFERINGMODE_INACTIVE                    0x00000002

/* LINEOPENOPTION_* */
#define LINEOPENOPTION_SINGLEADDRESS                 0x80000000
#define LINEOPENOPTION_PROXY                         0x40000000

/* LINEPARKMODE_* */
#define LINEPARKMODE_DIRECTED                        0x00000001
#define LINEPARKMODE_NONDIRECTED                     0x00000002

/* LINEREMOVEFROMCONF_* */
#define LINEREMOVEFROMCONF_NONE                      0x00000001
#define LINEREMOVEFROMCONF_LAST                      0x00000002
#define LINEREMOVEFROMCONF_ANY                       0x00000003

/* LINEREQUESTMODE_* */
#define LINEREQUESTMODE_MAKECALL                     0x00000001
#define LINEREQUESTMODE_MEDIACALL                    0x00000002
#define LINEREQUESTMODE_DROP                         0x00000004
#define LAST_LINEREQUESTMODE                         LINEREQUESTMODE_MEDIACALL

/* LINEROAMMODE_* */
#define LINEROAMMODE_UNKNOWN                         0x00000001
#define LINEROAMMODE_UNAVAIL                         0x00000002
#define LINEROAMMODE_HOME                            0x00000004
#define LINEROAMMODE_ROAMA                           0x00000008
#define LINEROAMMODE_ROAMB                           0x00000010

/* LINESPECIALINFO_* */
#define LINESPECIALINFO_NOCIRCUIT                    0x00000001
#define LINESPECIALINFO_CUSTIRREG                    0x00000002
#define LINESPECIALINFO_REORDER                      0x00000004
#define LINESPECIALINFO_UNKNOWN                      0x00000008
#define LINESPECIALINFO_UNAVAIL                      0x00000010

/* LINETONEMODE_* */
#define LINETONEMODE_CUSTOM                          0x00000001
#define LINETONEMODE_RINGBACK                        0x00000002
#define LINETONEMODE_BUSY                            0x00000004
#define LINETONEMODE_BEEP                            0x00000008
#define LINETONEMODE_BILLING                         0x00000010

/* LINETRANSFERMODE_* */
#define LINETRANSFERMODE_TRANSFER                    0x00000001
#define LINETRANSFERMODE_CONFERENCE                  0x00000002

/* PHONEBUTTONMODE_* */
#define PHONEBUTTONMODE_DUMMY                        0x00000001
#define PHONEBUTTONMODE_CALL                         0x00000002
#define PHONEBUTTONMODE_FEATURE                      0x00000004
#define PHONEBUTTONMODE_KEYPAD                       0x00000008
#define PHONEBUTTONMODE_LOCAL                        0x00000010
#define PHONEBUTTONMODE_DISPLAY                      0x00000020

/* PHONEBUTTONSTATE_* */
#define PHONEBUTTONSTATE_UP                          0x00000001
#define PHONEBUTTONSTATE_DOWN                        0x00000002
#define PHONEBUTTONSTATE_UNKNOWN                     0x00000004
#define PHONEBUTTONSTATE_UNAVAIL                     0x00000008

/* PHONEERR_* */
#define PHONEERR_ALLOCATED                           0x90000001
#define PHONEERR_BADDEVICEID                         0x90000002
#define PHONEERR_INCOMPATIBLEAPIVERSION              0x90000003
#define PHONEERR_INCOMPATIBLEEXTVERSION              0x90000004
#define PHONEERR_INIFILECORRUPT                      0x90000005
#define PHONEERR_INUSE                               0x90000006
#define PHONEERR_INVALAPPHANDLE                      0x90000007
#define PHONEERR_INVALAPPNAME                        0x90000008
#define PHONEERR_INVALBUTTONLAMPID                   0x90000009
#define PHONEERR_INVALBUTTONMODE                     0x9000000A
#define PHONEERR_INVALBUTTONSTATE                    0x9000000B
#define PHONEERR_INVALDATAID                         0x9000000C
#define PHONEERR_INVALDEVICECLASS                    0x9000000D
#define PHONEERR_INVALEXTVERSION                     0x9000000E
#define PHONEERR_INVALHOOKSWITCHDEV                  0x9000000F
#define PHONEERR_INVALHOOKSWITCHMODE                 0x90000010
#define PHONEERR_INVALLAMPMODE                       0x90000011
#define PHONEERR_INVALPARAM                          0x90000012
#define PHONEERR_INVALPHONEHANDLE                    0x90000013
#define PHONEERR_INVALPHONESTATE                     0x90000014
#define PHONEERR_INVALPOINTER                        0x90000015
#define PHONEERR_INVALPRIVILEGE                      0x90000016
#define PHONEERR_INVALRINGMODE                       0x90000017
#define PHONEERR_NODEVICE                            0x90000018
#define PHONEERR_NODRIVER                            0x90000019
#define PHONEERR_NOMEM                               0x9000001A
#define PHONEERR_NOTOWNER                            0x9000001B
#define PHONEERR_OPERATIONFAILED                     0x9000001C
#define PHONEERR_OPERATIONUNAVAIL                    0x9000001D
#define PHONEERR_RESOURCEUNAVAIL                     0x9000001F
#define PHONEERR_REQUESTOVERRUN                      0x90000020
#define PHONEERR_STRUCTURETOOSMALL                   0x90000021
#define PHONEERR_UNINITIALIZED                       0x90000022
#define PHONEERR_REINIT                              0x90000023
#define PHONEERR_DISCONNECTED                        0x90000024
#define PHONEERR_SERVICE_NOT_RUNNING                 0x90000025

/* PHONEFEATURE_* */
#define PHONEFEATURE_GETBUTTONINFO                   0x00000001
#define PHONEFEATURE_GETDATA                         0x00000002
#define PHONEFEATURE_GETDISPLAY                      0x00000004
#define PHONEFEATURE_GETGAINHANDSET                  0x00000008
#define PHONEFEATURE_GETGAINSPEAKER                  0x00000010
#define PHONEFEATURE_GETGAINHEADSET                  0x00000020
#define PHONEFEATURE_GETHOOKSWITCHHANDSET            0x00000040
#define PHONEFEATURE_GETHOOKSWITCHSPEAKER            0x00000080
#define PHONEFEATURE_GETHOOKSWITCHHEADSET            0x00000100
#define PHONEFEATURE_GETLAMP                         0x00000200
#define PHONEFEATURE_GETRING                         0x00000400
#define PHONEFEATURE_GETVOLUMEHANDSET                0x00000800
#define PHONEFEATURE_GETVOLUMESPEAKER                0x00001000
#define PHONEFEATURE_GETVOLUMEHEADSET                0x00002000
#define PHONEFEATURE_SETBUTTONINFO                   0x00004000
#define PHONEFEATURE_SETDATA                         0x00008000
#define PHONEFEATURE_SETDISPLAY                      0x00010000
#define PHONEFEATURE_SETGAINHANDSET                  0x00020000
#define PHONEFEATURE_SETGAINSPEAKER                  0x00040000
#define PHONEFEATURE_SETGAINHEADSET                  0x00080000
#define PHONEFEATURE_SETHOOKSWITCHHANDSET            0x00100000
#define PHONEFEATURE_SETHOOKSWITCHSPEAKER            0x00200000
#define PHONEFEATURE_SETHOOKSWITCHHEADSET            0x00400000
#define PHONEFEATURE_SETLAMP                         0x00800000
#define PHONEFEATURE_SETRING                         0x01000000
#define PHONEFEATURE_SETVOLUMEHANDSET                0x02000000
#define PHONEFEATURE_SETVOLUMESPEAKER                0x04000000
#define PHONEFEATURE_SETVOLUMEHEADSET                0x08000000
#define PHONEFEATURE_GENERICPHONE                    0x10000000

/* PHONEHOOKSWITCHDEV_* */
#define PHONEHOOKSWITCHDEV_HANDSET                   0x00000001
#define PHONEHOOKSWITCHDEV_SPEAKER                   0x00000002
#define PHONEHOOKSWITCHDEV_HEADSET                   0x00000004

/* PHONEHOOKSWITCHMODE_* */
#define PHONEHOOKSWITCHMODE_ONHOOK                   0x00000001
#define PHONEHOOKSWITCHMODE_MIC                      0x00000002
#define PHONEHOOKSWITCHMODE_SPEAKER                  0x00000004
#define PHONEHOOKSWITCHMODE_MICSPEAKER               0x00000008
#define PHONEHOOKSWITCHMODE_UNKNOWN                  0x00000010

/* PHONEINITIALIZEEXOPTION_* */
#define PHONEINITIALIZEEXOPTION_USEHIDDENWINDOW      0x00000001
#define PHONEINITIALIZEEXOPTION_USEEVENT             0x00000002
#define PHONEINITIALIZEEXOPTION_USECOMPLETIONPORT    0x00000003

/* PHONELAMPMODE_* */
#define PHONELAMPMODE_DUMMY                          0x00000001
#define PHONELAMPMODE_OFF                            0x00000002
#define PHONELAMPMODE_STEADY                         0x00000004
#define PHONELAMPMODE_WINK                           0x00000008
#define PHONELAMPMODE_FLASH                          0x00000010
#define PHONELAMPMODE_FLUTTER                        0x00000020
#define PHONELAMPMODE_BROKENFLUTTER                  0x00000040
#define PHONELAMPMODE_UNKNOWN                        0x00000080

/* PHONEPRIVILEGE_* */
#define PHONEPRIVILEGE_MONITOR                       0x00000001
#define PHONEPRIVILEGE_OWNER                         0x00000002

/* PHONESTATE_* */
#define PHONESTATE_OTHER                             0x00000001
#define PHONESTATE_CONNECTED                         0x00000002
#define PHONESTATE_DISCONNECTED                      0x00000004
#define PHONESTATE_OWNER                             0x00000008
#define PHONESTATE_MONITORS                          0x00000010
#define PHONESTATE_DISPLAY                           0x00000020
#define PHONESTATE_LAMP                              0x00000040
#define PHONESTATE_RINGMODE                          0x00000080
#define PHONESTATE_RINGVOLUME                        0x00000100
#define PHONESTATE_HANDSETHOOKSWITCH                 0x00000200
#define PHONESTATE_HANDSETVOLUME                     0x00000400
#define PHONESTATE_HANDSETGAIN                       0x00000800
#define PHONESTATE_SPEAKERHOOKSWITCH                 0x00001000
#define PHONESTATE_SPEAKERVOLUME                     0x00002000
#define PHONESTATE_SPEAKERGAIN                       0x00004000
#define PHONESTATE_HEADSETHOOKSWITCH                 0x00008000
#define PHONESTATE_HEADSETVOLUME                     0x00010000
#define PHONESTATE_HEADSETGAIN                       0x00020000
#define PHONESTATE_SUSPEND                           0x00040000
#define PHONESTATE_RESUME                            0x00080000
#define PHONESTATE_DEVSPECIFIC                       0x00100000
#define PHONESTATE_REINIT                            0x00200000
#define PHONESTATE_CAPSCHANGE                        0x00400000
#define PHONESTATE_REMOVED                           0x00800000

/* PHONESTATUSFLAGS_* */
#define PHONESTATUSFLAGS_CONNECTED                   0x00000001
#define PHONESTATUSFLAGS_SUSPENDED                   0x00000002

/* STRINGFORMAT_* */
#define STRINGFORMAT_ASCII                           0x00000001
#define STRINGFORMAT_DBCS                            0x00000002
#define STRINGFORMAT_UNICODE                         0x00000003
#define STRINGFORMAT_BINARY                          0x00000004

/* ---- Structures: byte-packed, as Microsoft's tapi.h declares them -------- */

#pragma pack(push, 1)

typedef struct linedialparams_tag {
    DWORD dwDialPause;
    DWORD dwDialSpeed;
    DWORD dwDigitDuration;
    DWORD dwWaitForDialtone;
} LINEDIALPARAMS, FAR *LPLINEDIALPARAMS;

typedef struct lineextensionid_tag {
    DWORD dwExtensionID0;
    DWORD dwExtensionID1;
    DWORD dwExtensionID2;
    DWORD dwExtensionID3;
} LINEEXTENSIONID, FAR *LPLINEEXTENSIONID;

typedef struct phoneextensionid_tag {
    DWORD dwExtensionID0;
    DWORD dwExtensionID1;
    DWORD dwExtensionID2;
    DWORD dwExtensionID3;
} PHONEEXTENSIONID, FAR *LPPHONEEXTENSIONID;

typedef struct lineinitializeexparams_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwOptions;
    union {
        HANDLE hEvent;
        HANDLE hCompletionPort;
    } Handles;
    DWORD dwCompletionKey;
} LINEINITIALIZEEXPARAMS, FAR *LPLINEINITIALIZEEXPARAMS;

typedef struct phoneinitializeexparams_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwOptions;
    union {
        HANDLE hEvent;
        HANDLE hCompletionPort;
    } Handles;
    DWORD dwCompletionKey;
} PHONEINITIALIZEEXPARAMS, FAR *LPPHONEINITIALIZEEXPARAMS;

typedef struct linemessage_tag {
    DWORD hDevice;
    DWORD dwMessageID;
    DWORD_PTR dwCallbackInstance;
    DWORD_PTR dwParam1;
    DWORD_PTR dwParam2;
    DWORD_PTR dwParam3;
} LINEMESSAGE, FAR *LPLINEMESSAGE;

typedef struct phonemessage_tag {
    DWORD hDevice;
    DWORD dwMessageID;
    DWORD_PTR dwCallbackInstance;
    DWORD_PTR dwParam1;
    DWORD_PTR dwParam2;
    DWORD_PTR dwParam3;
} PHONEMESSAGE, FAR *LPPHONEMESSAGE;

typedef struct varstring_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwStringFormat;
    DWORD dwStringSize;
    DWORD dwStringOffset;
} VARSTRING, FAR *LPVARSTRING;

typedef struct linedevcaps_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwProviderInfoSize;
    DWORD dwProviderInfoOffset;
    DWORD dwSwitchInfoSize;
    DWORD dwSwitchInfoOffset;
    DWORD dwPermanentLineID;
    DWORD dwLineNameSize;
    DWORD dwLineNameOffset;
    DWORD dwStringFormat;
    DWORD dwAddressModes;
    DWORD dwNumAddresses;
    DWORD dwBearerModes;
    DWORD dwMaxRate;
    DWORD dwMediaModes;
    DWORD dwGenerateToneModes;
    DWORD dwGenerateToneMaxNumFreq;
    DWORD dwGenerateDigitModes;
    DWORD dwMonitorToneMaxNumFreq;
    DWORD dwMonitorToneMaxNumEntries;
    DWORD dwMonitorDigitModes;
    DWORD dwGatherDigitsMinTimeout;
    DWORD dwGatherDigitsMaxTimeout;
    DWORD dwMedCtlDigitMaxListSize;
    DWORD dwMedCtlMediaMaxListSize;
    DWORD dwMedCtlToneMaxListSize;
    DWORD dwMedCtlCallStateMaxListSize;
    DWORD dwDevCapFlags;
    DWORD dwMaxNumActiveCalls;
    DWORD dwAnswerMode;
    DWORD dwRingModes;
    DWORD dwLineStates;
    DWORD dwUUIAcceptSize;
    DWORD dwUUIAnswerSize;
    DWORD dwUUIMakeCallSize;
    DWORD dwUUIDropSize;
    DWORD dwUUISendUserUserInfoSize;
    DWORD dwUUICallInfoSize;
    LINEDIALPARAMS MinDialParams;
    LINEDIALPARAMS MaxDialParams;
    LINEDIALPARAMS DefaultDialParams;
    DWORD dwNumTerminals;
    DWORD dwTerminalCapsSize;
    DWORD dwTerminalCapsOffset;
    DWORD dwTerminalTextEntrySize;
    DWORD dwTerminalTextSize;
    DWORD dwTerminalTextOffset;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
    DWORD dwLineFeatures;                       /* TAPI v1.4 */
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    DWORD dwSettableDevStatus;                  /* TAPI v2.0 */
    DWORD dwDeviceClassesSize;                  /* TAPI v2.0 */
    DWORD dwDeviceClassesOffset;                /* TAPI v2.0 */
#endif
#if (TAPI_CURRENT_VERSION >= 0x00020002)
    GUID PermanentLineGuid;                     /* TAPI v2.2 */
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030000)
    DWORD dwAddressTypes;                       /* TAPI v3.0 */
    GUID ProtocolGuid;                          /* TAPI v3.0 */
    DWORD dwAvailableTracking;                  /* TAPI v3.0 */
#endif
} LINEDEVCAPS, FAR *LPLINEDEVCAPS;

typedef struct linedevstatus_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwNumOpens;
    DWORD dwOpenMediaModes;
    DWORD dwNumActiveCalls;
    DWORD dwNumOnHoldCalls;
    DWORD dwNumOnHoldPendCalls;
    DWORD dwLineFeatures;
    DWORD dwNumCallCompletions;
    DWORD dwRingMode;
    DWORD dwSignalLevel;
    DWORD dwBatteryLevel;
    DWORD dwRoamMode;
    DWORD dwDevStatusFlags;
    DWORD dwTerminalModesSize;
    DWORD dwTerminalModesOffset;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    DWORD dwAvailableMediaModes;                /* TAPI v2.0 */
    DWORD dwAppInfoSize;                        /* TAPI v2.0 */
    DWORD dwAppInfoOffset;                      /* TAPI v2.0 */
#endif
} LINEDEVSTATUS, FAR *LPLINEDEVSTATUS;

typedef struct lineaddresscaps_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwLineDeviceID;
    DWORD dwAddressSize;
    DWORD dwAddressOffset;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
    DWORD dwAddressSharing;
    DWORD dwAddressStates;
    DWORD dwCallInfoStates;
    DWORD dwCallerIDFlags;
    DWORD dwCalledIDFlags;
    DWORD dwConnectedIDFlags;
    DWORD dwRedirectionIDFlags;
    DWORD dwRedirectingIDFlags;
    DWORD dwCallStates;
    DWORD dwDialToneModes;
    DWORD dwBusyModes;
    DWORD dwSpecialInfo;
    DWORD dwDisconnectModes;
    DWORD dwMaxNumActiveCalls;
    DWORD dwMaxNumOnHoldCalls;
    DWORD dwMaxNumOnHoldPendingCalls;
    DWORD dwMaxNumConference;
    DWORD dwMaxNumTransConf;
    DWORD dwAddrCapFlags;
    DWORD dwCallFeatures;
    DWORD dwRemoveFromConfCaps;
    DWORD dwRemoveFromConfState;
    DWORD dwTransferModes;
    DWORD dwParkModes;
    DWORD dwForwardModes;
    DWORD dwMaxForwardEntries;
    DWORD dwMaxSpecificEntries;
    DWORD dwMinFwdNumRings;
    DWORD dwMaxFwdNumRings;
    DWORD dwMaxCallCompletions;
    DWORD dwCallCompletionConds;
    DWORD dwCallCompletionModes;
    DWORD dwNumCompletionMessages;
    DWORD dwCompletionMsgTextEntrySize;
    DWORD dwCompletionMsgTextSize;
    DWORD dwCompletionMsgTextOffset;
    DWORD dwAddressFeatures;                    /* TAPI v1.4 */
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    DWORD dwPredictiveAutoTransferStates;       /* TAPI v2.0 */
    DWORD dwNumCallTreatments;                  /* TAPI v2.0 */
    DWORD dwCallTreatmentListSize;              /* TAPI v2.0 */
    DWORD dwCallTreatmentListOffset;            /* TAPI v2.0 */
    DWORD dwDeviceClassesSize;                  /* TAPI v2.0 */
    DWORD dwDeviceClassesOffset;                /* TAPI v2.0 */
    DWORD dwMaxCallDataSize;                    /* TAPI v2.0 */
    DWORD dwCallFeatures2;                      /* TAPI v2.0 */
    DWORD dwMaxNoAnswerTimeout;                 /* TAPI v2.0 */
    DWORD dwConnectedModes;                     /* TAPI v2.0 */
    DWORD dwOfferingModes;                      /* TAPI v2.0 */
    DWORD dwAvailableMediaModes;                /* TAPI v2.0 */
#endif
} LINEADDRESSCAPS, FAR *LPLINEADDRESSCAPS;

typedef struct lineaddressstatus_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwNumInUse;
    DWORD dwNumActiveCalls;
    DWORD dwNumOnHoldCalls;
    DWORD dwNumOnHoldPendCalls;
    DWORD dwAddressFeatures;
    DWORD dwNumRingsNoAnswer;
    DWORD dwForwardNumEntries;
    DWORD dwForwardSize;
    DWORD dwForwardOffset;
    DWORD dwTerminalModesSize;
    DWORD dwTerminalModesOffset;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
} LINEADDRESSSTATUS, FAR *LPLINEADDRESSSTATUS;

typedef struct linecallinfo_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    HLINE hLine;
    DWORD dwLineDeviceID;
    DWORD dwAddressID;
    DWORD dwBearerMode;
    DWORD dwRate;
    DWORD dwMediaMode;
    DWORD dwAppSpecific;
    DWORD dwCallID;
    DWORD dwRelatedCallID;
    DWORD dwCallParamFlags;
    DWORD dwCallStates;
    DWORD dwMonitorDigitModes;
    DWORD dwMonitorMediaModes;
    LINEDIALPARAMS DialParams;
    DWORD dwOrigin;
    DWORD dwReason;
    DWORD dwCompletionID;
    DWORD dwNumOwners;
    DWORD dwNumMonitors;
    DWORD dwCountryCode;
    DWORD dwTrunk;
    DWORD dwCallerIDFlags;
    DWORD dwCallerIDSize;
    DWORD dwCallerIDOffset;
    DWORD dwCallerIDNameSize;
    DWORD dwCallerIDNameOffset;
    DWORD dwCalledIDFlags;
    DWORD dwCalledIDSize;
    DWORD dwCalledIDOffset;
    DWORD dwCalledIDNameSize;
    DWORD dwCalledIDNameOffset;
    DWORD dwConnectedIDFlags;
    DWORD dwConnectedIDSize;
    DWORD dwConnectedIDOffset;
    DWORD dwConnectedIDNameSize;
    DWORD dwConnectedIDNameOffset;
    DWORD dwRedirectionIDFlags;
    DWORD dwRedirectionIDSize;
    DWORD dwRedirectionIDOffset;
    DWORD dwRedirectionIDNameSize;
    DWORD dwRedirectionIDNameOffset;
    DWORD dwRedirectingIDFlags;
    DWORD dwRedirectingIDSize;
    DWORD dwRedirectingIDOffset;
    DWORD dwRedirectingIDNameSize;
    DWORD dwRedirectingIDNameOffset;
    DWORD dwAppNameSize;
    DWORD dwAppNameOffset;
    DWORD dwDisplayableAddressSize;
    DWORD dwDisplayableAddressOffset;
    DWORD dwCalledPartySize;
    DWORD dwCalledPartyOffset;
    DWORD dwCommentSize;
    DWORD dwCommentOffset;
    DWORD dwDisplaySize;
    DWORD dwDisplayOffset;
    DWORD dwUserUserInfoSize;
    DWORD dwUserUserInfoOffset;
    DWORD dwHighLevelCompSize;
    DWORD dwHighLevelCompOffset;
    DWORD dwLowLevelCompSize;
    DWORD dwLowLevelCompOffset;
    DWORD dwChargingInfoSize;
    DWORD dwChargingInfoOffset;
    DWORD dwTerminalModesSize;
    DWORD dwTerminalModesOffset;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    DWORD dwCallTreatment;                      /* TAPI v2.0 */
    DWORD dwCallDataSize;                       /* TAPI v2.0 */
    DWORD dwCallDataOffset;                     /* TAPI v2.0 */
    DWORD dwSendingFlowspecSize;                /* TAPI v2.0 */
    DWORD dwSendingFlowspecOffset;              /* TAPI v2.0 */
    DWORD dwReceivingFlowspecSize;              /* TAPI v2.0 */
    DWORD dwReceivingFlowspecOffset;            /* TAPI v2.0 */
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030000)
    DWORD dwCallerIDAddressType;                /* TAPI v3.0 */
    DWORD dwCalledIDAddressType;                /* TAPI v3.0 */
    DWORD dwConnectedIDAddressType;             /* TAPI v3.0 */
    DWORD dwRedirectionIDAddressType;           /* TAPI v3.0 */
    DWORD dwRedirectingIDAddressType;           /* TAPI v3.0 */
#endif
} LINECALLINFO, FAR *LPLINECALLINFO;

typedef struct linecallstatus_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwCallState;
    DWORD dwCallStateMode;
    DWORD dwCallPrivilege;
    DWORD dwCallFeatures;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    DWORD dwCallFeatures2;                      /* TAPI v2.0 */
    SYSTEMTIME tStateEntryTime;                 /* TAPI v2.0 */
#endif
} LINECALLSTATUS, FAR *LPLINECALLSTATUS;

typedef struct linecalllist_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwCallsNumEntries;
    DWORD dwCallsSize;
    DWORD dwCallsOffset;
} LINECALLLIST, FAR *LPLINECALLLIST;

typedef struct linecallparams_tag {
    DWORD dwTotalSize;
    DWORD dwBearerMode;
    DWORD dwMinRate;
    DWORD dwMaxRate;
    DWORD dwMediaMode;
    DWORD dwCallParamFlags;
    DWORD dwAddressMode;
    DWORD dwAddressID;
    LINEDIALPARAMS DialParams;
    DWORD dwOrigAddressSize;
    DWORD dwOrigAddressOffset;
    DWORD dwDisplayableAddressSize;
    DWORD dwDisplayableAddressOffset;
    DWORD dwCalledPartySize;
    DWORD dwCalledPartyOffset;
    DWORD dwCommentSize;
    DWORD dwCommentOffset;
    DWORD dwUserUserInfoSize;
    DWORD dwUserUserInfoOffset;
    DWORD dwHighLevelCompSize;
    DWORD dwHighLevelCompOffset;
    DWORD dwLowLevelCompSize;
    DWORD dwLowLevelCompOffset;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    DWORD dwPredictiveAutoTransferStates;       /* TAPI v2.0 */
    DWORD dwTargetAddressSize;                  /* TAPI v2.0 */
    DWORD dwTargetAddressOffset;                /* TAPI v2.0 */
    DWORD dwSendingFlowspecSize;                /* TAPI v2.0 */
    DWORD dwSendingFlowspecOffset;              /* TAPI v2.0 */
    DWORD dwReceivingFlowspecSize;              /* TAPI v2.0 */
    DWORD dwReceivingFlowspecOffset;            /* TAPI v2.0 */
    DWORD dwDeviceClassSize;                    /* TAPI v2.0 */
    DWORD dwDeviceClassOffset;                  /* TAPI v2.0 */
    DWORD dwDeviceConfigSize;                   /* TAPI v2.0 */
    DWORD dwDeviceConfigOffset;                 /* TAPI v2.0 */
    DWORD dwCallDataSize;                       /* TAPI v2.0 */
    DWORD dwCallDataOffset;                     /* TAPI v2.0 */
    DWORD dwNoAnswerTimeout;                    /* TAPI v2.0 */
    DWORD dwCallingPartyIDSize;                 /* TAPI v2.0 */
    DWORD dwCallingPartyIDOffset;               /* TAPI v2.0 */
#endif
#if (TAPI_CURRENT_VERSION >= 0x00030000)
    DWORD dwAddressType;                        /* TAPI v3.0 */
#endif
} LINECALLPARAMS, FAR *LPLINECALLPARAMS;

typedef struct lineforward_tag {
    DWORD dwForwardMode;
    DWORD dwCallerAddressSize;
    DWORD dwCallerAddressOffset;
    DWORD dwDestCountryCode;
    DWORD dwDestAddressSize;
    DWORD dwDestAddressOffset;
#if (TAPI_CURRENT_VERSION >= 0x00030001)
    DWORD dwCallerAddressType;                  /* TAPI v3.1 */
    DWORD dwDestAddressType;                    /* TAPI v3.1 */
#endif
} LINEFORWARD, FAR *LPLINEFORWARD;

typedef struct lineforwardlist_tag {
    DWORD dwTotalSize;
    DWORD dwNumEntries;
    LINEFORWARD ForwardList[1];
} LINEFORWARDLIST, FAR *LPLINEFORWARDLIST;

typedef struct linegeneratetone_tag {
    DWORD dwFrequency;
    DWORD dwCadenceOn;
    DWORD dwCadenceOff;
    DWORD dwVolume;
} LINEGENERATETONE, FAR *LPLINEGENERATETONE;

typedef struct phonecaps_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwProviderInfoSize;
    DWORD dwProviderInfoOffset;
    DWORD dwPhoneInfoSize;
    DWORD dwPhoneInfoOffset;
    DWORD dwPermanentPhoneID;
    DWORD dwPhoneNameSize;
    DWORD dwPhoneNameOffset;
    DWORD dwStringFormat;
    DWORD dwPhoneStates;
    DWORD dwHookSwitchDevs;
    DWORD dwHandsetHookSwitchModes;
    DWORD dwSpeakerHookSwitchModes;
    DWORD dwHeadsetHookSwitchModes;
    DWORD dwVolumeFlags;
    DWORD dwGainFlags;
    DWORD dwDisplayNumRows;
    DWORD dwDisplayNumColumns;
    DWORD dwNumRingModes;
    DWORD dwNumButtonLamps;
    DWORD dwButtonModesSize;
    DWORD dwButtonModesOffset;
    DWORD dwButtonFunctionsSize;
    DWORD dwButtonFunctionsOffset;
    DWORD dwLampModesSize;
    DWORD dwLampModesOffset;
    DWORD dwNumSetData;
    DWORD dwSetDataSize;
    DWORD dwSetDataOffset;
    DWORD dwNumGetData;
    DWORD dwGetDataSize;
    DWORD dwGetDataOffset;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    DWORD dwDeviceClassesSize;                  /* TAPI v2.0 */
    DWORD dwDeviceClassesOffset;                /* TAPI v2.0 */
    DWORD dwPhoneFeatures;                      /* TAPI v2.0 */
    DWORD dwSettableHandsetHookSwitchModes;     /* TAPI v2.0 */
    DWORD dwSettableSpeakerHookSwitchModes;     /* TAPI v2.0 */
    DWORD dwSettableHeadsetHookSwitchModes;     /* TAPI v2.0 */
    DWORD dwMonitoredHandsetHookSwitchModes;    /* TAPI v2.0 */
    DWORD dwMonitoredSpeakerHookSwitchModes;    /* TAPI v2.0 */
    DWORD dwMonitoredHeadsetHookSwitchModes;    /* TAPI v2.0 */
#endif
#if (TAPI_CURRENT_VERSION >= 0x00020002)
    GUID PermanentPhoneGuid;                    /* TAPI v2.2 */
#endif
} PHONECAPS, FAR *LPPHONECAPS;

typedef struct phonestatus_tag {
    DWORD dwTotalSize;
    DWORD dwNeededSize;
    DWORD dwUsedSize;
    DWORD dwStatusFlags;
    DWORD dwNumOwners;
    DWORD dwNumMonitors;
    DWORD dwRingMode;
    DWORD dwRingVolume;
    DWORD dwHandsetHookSwitchMode;
    DWORD dwHandsetVolume;
    DWORD dwHandsetGain;
    DWORD dwSpeakerHookSwitchMode;
    DWORD dwSpeakerVolume;
    DWORD dwSpeakerGain;
    DWORD dwHeadsetHookSwitchMode;
    DWORD dwHeadsetVolume;
    DWORD dwHeadsetGain;
    DWORD dwDisplaySize;
    DWORD dwDisplayOffset;
    DWORD dwLampModesSize;
    DWORD dwLampModesOffset;
    DWORD dwOwnerNameSize;
    DWORD dwOwnerNameOffset;
    DWORD dwDevSpecificSize;
    DWORD dwDevSpecificOffset;
#if (TAPI_CURRENT_VERSION >= 0x00020000)
    DWORD dwPhoneFeatures;                      /* TAPI v2.0 */
#endif
} PHONESTATUS, FAR *LPPHONESTATUS;

#pragma pack(pop)

/* ---- Line functions ------------------------------------------------------
 * "A" marks the ANSI variant of a function Microsoft declares as A/W; the
 * plain name is exported too (with ANSI strings), as tapi32.dll does.
 * Asynchronous functions return a positive request ID (completed by
 * LINE_REPLY) or a negative LINEERR_; the others return 0 or LINEERR_.
 */

LONG WINAPI lineInitializeExA(LPHLINEAPP lphLineApp, HINSTANCE hInstance,
                              LINECALLBACK lpfnCallback, LPCSTR lpszFriendlyAppName,
                              LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                              LPLINEINITIALIZEEXPARAMS lpLineInitializeExParams);
LONG WINAPI lineShutdown(HLINEAPP hLineApp);
LONG WINAPI lineNegotiateAPIVersion(HLINEAPP hLineApp, DWORD dwDeviceID,
                                    DWORD dwAPILowVersion, DWORD dwAPIHighVersion,
                                    LPDWORD lpdwAPIVersion, LPLINEEXTENSIONID lpExtensionID);
LONG WINAPI lineGetMessage(HLINEAPP hLineApp, LPLINEMESSAGE lpMessage, DWORD dwTimeout);

LONG WINAPI lineGetDevCaps(HLINEAPP hLineApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                           DWORD dwExtVersion, LPLINEDEVCAPS lpLineDevCaps);
LONG WINAPI lineGetDevCapsA(HLINEAPP hLineApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                            DWORD dwExtVersion, LPLINEDEVCAPS lpLineDevCaps);
LONG WINAPI lineGetAddressCaps(HLINEAPP hLineApp, DWORD dwDeviceID, DWORD dwAddressID,
                               DWORD dwAPIVersion, DWORD dwExtVersion,
                               LPLINEADDRESSCAPS lpAddressCaps);
LONG WINAPI lineGetAddressCapsA(HLINEAPP hLineApp, DWORD dwDeviceID, DWORD dwAddressID,
                                DWORD dwAPIVersion, DWORD dwExtVersion,
                                LPLINEADDRESSCAPS lpAddressCaps);

LONG WINAPI lineOpen(HLINEAPP hLineApp, DWORD dwDeviceID, LPHLINE lphLine,
                     DWORD dwAPIVersion, DWORD dwExtVersion, DWORD_PTR dwCallbackInstance,
                     DWORD dwPrivileges, DWORD dwMediaModes,
                     LPLINECALLPARAMS const lpCallParams);
LONG WINAPI lineOpenA(HLINEAPP hLineApp, DWORD dwDeviceID, LPHLINE lphLine,
                      DWORD dwAPIVersion, DWORD dwExtVersion, DWORD_PTR dwCallbackInstance,
                      DWORD dwPrivileges, DWORD dwMediaModes,
                      LPLINECALLPARAMS const lpCallParams);
LONG WINAPI lineClose(HLINE hLine);
LONG WINAPI lineSetStatusMessages(HLINE hLine, DWORD dwLineStates, DWORD dwAddressStates);
LONG WINAPI lineGetLineDevStatus(HLINE hLine, LPLINEDEVSTATUS lpLineDevStatus);
LONG WINAPI lineGetLineDevStatusA(HLINE hLine, LPLINEDEVSTATUS lpLineDevStatus);
LONG WINAPI lineGetAddressStatus(HLINE hLine, DWORD dwAddressID,
                                 LPLINEADDRESSSTATUS lpAddressStatus);
LONG WINAPI lineGetAddressStatusA(HLINE hLine, DWORD dwAddressID,
                                  LPLINEADDRESSSTATUS lpAddressStatus);
LONG WINAPI lineGetAddressID(HLINE hLine, LPDWORD lpdwAddressID, DWORD dwAddressMode,
                             LPCSTR lpsAddress, DWORD dwSize);
LONG WINAPI lineGetAddressIDA(HLINE hLine, LPDWORD lpdwAddressID, DWORD dwAddressMode,
                              LPCSTR lpsAddress, DWORD dwSize);
LONG WINAPI lineGetNewCalls(HLINE hLine, DWORD dwAddressID, DWORD dwSelect,
                            LPLINECALLLIST lpCallList);
LONG WINAPI lineGetID(HLINE hLine, DWORD dwAddressID, HCALL hCall, DWORD dwSelect,
                      LPVARSTRING lpDeviceID, LPCSTR lpszDeviceClass);
LONG WINAPI lineGetIDA(HLINE hLine, DWORD dwAddressID, HCALL hCall, DWORD dwSelect,
                       LPVARSTRING lpDeviceID, LPCSTR lpszDeviceClass);
LONG WINAPI lineForward(HLINE hLine, DWORD bAllAddresses, DWORD dwAddressID,
                        LPLINEFORWARDLIST const lpForwardList, DWORD dwNumRingsNoAnswer,
                        LPHCALL lphConsultCall, LPLINECALLPARAMS const lpCallParams);
LONG WINAPI lineForwardA(HLINE hLine, DWORD bAllAddresses, DWORD dwAddressID,
                         LPLINEFORWARDLIST const lpForwardList, DWORD dwNumRingsNoAnswer,
                         LPHCALL lphConsultCall, LPLINECALLPARAMS const lpCallParams);

LONG WINAPI lineMakeCall(HLINE hLine, LPHCALL lphCall, LPCSTR lpszDestAddress,
                         DWORD dwCountryCode, LPLINECALLPARAMS const lpCallParams);
LONG WINAPI lineMakeCallA(HLINE hLine, LPHCALL lphCall, LPCSTR lpszDestAddress,
                          DWORD dwCountryCode, LPLINECALLPARAMS const lpCallParams);
LONG WINAPI lineDial(HCALL hCall, LPCSTR lpszDestAddress, DWORD dwCountryCode);
LONG WINAPI lineDialA(HCALL hCall, LPCSTR lpszDestAddress, DWORD dwCountryCode);
LONG WINAPI lineAccept(HCALL hCall, LPCSTR lpsUserUserInfo, DWORD dwSize);
LONG WINAPI lineAnswer(HCALL hCall, LPCSTR lpsUserUserInfo, DWORD dwSize);
LONG WINAPI lineDrop(HCALL hCall, LPCSTR lpsUserUserInfo, DWORD dwSize);
LONG WINAPI lineRedirect(HCALL hCall, LPCSTR lpszDestAddress, DWORD dwCountryCode);
LONG WINAPI lineRedirectA(HCALL hCall, LPCSTR lpszDestAddress, DWORD dwCountryCode);
LONG WINAPI lineDeallocateCall(HCALL hCall);
LONG WINAPI lineGetCallInfo(HCALL hCall, LPLINECALLINFO lpCallInfo);
LONG WINAPI lineGetCallInfoA(HCALL hCall, LPLINECALLINFO lpCallInfo);
LONG WINAPI lineGetCallStatus(HCALL hCall, LPLINECALLSTATUS lpCallStatus);
LONG WINAPI lineSetCallPrivilege(HCALL hCall, DWORD dwCallPrivilege);

LONG WINAPI lineHold(HCALL hCall);
LONG WINAPI lineUnhold(HCALL hCall);
LONG WINAPI lineSwapHold(HCALL hActiveCall, HCALL hHeldCall);
LONG WINAPI lineBlindTransfer(HCALL hCall, LPCSTR lpszDestAddress, DWORD dwCountryCode);
LONG WINAPI lineBlindTransferA(HCALL hCall, LPCSTR lpszDestAddress, DWORD dwCountryCode);
LONG WINAPI lineSetupTransfer(HCALL hCall, LPHCALL lphConsultCall,
                              LPLINECALLPARAMS const lpCallParams);
LONG WINAPI lineSetupTransferA(HCALL hCall, LPHCALL lphConsultCall,
                               LPLINECALLPARAMS const lpCallParams);
LONG WINAPI lineCompleteTransfer(HCALL hCall, HCALL hConsultCall, LPHCALL lphConfCall,
                                 DWORD dwTransferMode);
LONG WINAPI lineSetupConference(HCALL hCall, HLINE hLine, LPHCALL lphConfCall,
                                LPHCALL lphConsultCall, DWORD dwNumParties,
                                LPLINECALLPARAMS const lpCallParams);
LONG WINAPI lineSetupConferenceA(HCALL hCall, HLINE hLine, LPHCALL lphConfCall,
                                 LPHCALL lphConsultCall, DWORD dwNumParties,
                                 LPLINECALLPARAMS const lpCallParams);
LONG WINAPI lineAddToConference(HCALL hConfCall, HCALL hConsultCall);
LONG WINAPI lineRemoveFromConference(HCALL hCall);
LONG WINAPI linePrepareAddToConference(HCALL hConfCall, LPHCALL lphConsultCall,
                                       LPLINECALLPARAMS const lpCallParams);
LONG WINAPI linePrepareAddToConferenceA(HCALL hConfCall, LPHCALL lphConsultCall,
                                        LPLINECALLPARAMS const lpCallParams);

LONG WINAPI lineGenerateDigits(HCALL hCall, DWORD dwDigitMode, LPCSTR lpszDigits,
                               DWORD dwDuration);
LONG WINAPI lineGenerateDigitsA(HCALL hCall, DWORD dwDigitMode, LPCSTR lpszDigits,
                                DWORD dwDuration);
LONG WINAPI lineGenerateTone(HCALL hCall, DWORD dwToneMode, DWORD dwDuration,
                             DWORD dwNumTones, LPLINEGENERATETONE const lpTones);
LONG WINAPI lineMonitorDigits(HCALL hCall, DWORD dwDigitModes);
LONG WINAPI lineGatherDigits(HCALL hCall, DWORD dwDigitModes, LPSTR lpsDigits,
                             DWORD dwNumDigits, LPCSTR lpszTerminationDigits,
                             DWORD dwFirstDigitTimeout, DWORD dwInterDigitTimeout);
LONG WINAPI lineGatherDigitsA(HCALL hCall, DWORD dwDigitModes, LPSTR lpsDigits,
                              DWORD dwNumDigits, LPCSTR lpszTerminationDigits,
                              DWORD dwFirstDigitTimeout, DWORD dwInterDigitTimeout);

/* ---- Phone functions ----------------------------------------------------- */

LONG WINAPI phoneInitializeExA(LPHPHONEAPP lphPhoneApp, HINSTANCE hInstance,
                               PHONECALLBACK lpfnCallback, LPCSTR lpszFriendlyAppName,
                               LPDWORD lpdwNumDevs, LPDWORD lpdwAPIVersion,
                               LPPHONEINITIALIZEEXPARAMS lpPhoneInitializeExParams);
LONG WINAPI phoneShutdown(HPHONEAPP hPhoneApp);
LONG WINAPI phoneNegotiateAPIVersion(HPHONEAPP hPhoneApp, DWORD dwDeviceID,
                                     DWORD dwAPILowVersion, DWORD dwAPIHighVersion,
                                     LPDWORD lpdwAPIVersion, LPPHONEEXTENSIONID lpExtensionID);
LONG WINAPI phoneGetDevCaps(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                            DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps);
LONG WINAPI phoneGetDevCapsA(HPHONEAPP hPhoneApp, DWORD dwDeviceID, DWORD dwAPIVersion,
                             DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps);
LONG WINAPI phoneOpen(HPHONEAPP hPhoneApp, DWORD dwDeviceID, LPHPHONE lphPhone,
                      DWORD dwAPIVersion, DWORD dwExtVersion, DWORD_PTR dwCallbackInstance,
                      DWORD dwPrivilege);
LONG WINAPI phoneClose(HPHONE hPhone);
LONG WINAPI phoneSetStatusMessages(HPHONE hPhone, DWORD dwPhoneStates, DWORD dwButtonModes,
                                   DWORD dwButtonStates);
LONG WINAPI phoneGetHookSwitch(HPHONE hPhone, LPDWORD lpdwHookSwitchDevs);
LONG WINAPI phoneGetStatus(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus);
LONG WINAPI phoneGetStatusA(HPHONE hPhone, LPPHONESTATUS lpPhoneStatus);
LONG WINAPI phoneSetHookSwitch(HPHONE hPhone, DWORD dwHookSwitchDevs, DWORD dwHookSwitchMode);
LONG WINAPI phoneGetMessage(HPHONEAPP hPhoneApp, LPPHONEMESSAGE lpMessage, DWORD dwTimeout);

/* ---- tapigw extensions (not in Microsoft's tapi.h) ----------------------- */
/*
 * The gateway's media files (docs/api.md "Digits, tones and media"): lpszFile is a name
 * relative to the gateway's media.files_dir (an absolute path or one leaving that directory:
 * LINEERR_INVALPARAM; no files_dir: LINEERR_OPERATIONUNAVAIL). Owner handles only.
 *
 * tapigwMediaPlay, tapigwMediaRecord: asynchronous, a positive request ID. Play: LINE_REPLY(0)
 * at the end of the file (never with dwLoop != 0), LINEERR_OPERATIONFAILED when stopped
 * (tapigwMediaStop, a newer play, the call's end) or the file is not a readable WAV (16-bit
 * PCM or G.711, mono or stereo). Record: a 16-bit 8 kHz mono WAV of what the peer sends, until
 * dwMaxMs, dwSilenceMs of silence (0: no silence limit), tapigwMediaStop or the call's end;
 * then LINE_REPLY(0). tapigwMediaStop: synchronous, stops both, 0.
 */
LONG WINAPI tapigwMediaPlay(HCALL hCall, LPCSTR lpszFile, DWORD dwLoop);
LONG WINAPI tapigwMediaRecord(HCALL hCall, LPCSTR lpszFile, DWORD dwMaxMs, DWORD dwSilenceMs);
LONG WINAPI tapigwMediaStop(HCALL hCall);

/* ---- ANSI names, as tapi.h maps them when UNICODE is not defined --------- */

#define lineInitializeEx lineInitializeExA
#define phoneInitializeEx phoneInitializeExA
#if (TAPI_CURRENT_VERSION >= 0x00020000)
#define lineBlindTransfer lineBlindTransferA
#define lineDial lineDialA
#define lineForward lineForwardA
#define lineGatherDigits lineGatherDigitsA
#define lineGenerateDigits lineGenerateDigitsA
#define lineGetAddressCaps lineGetAddressCapsA
#define lineGetAddressID lineGetAddressIDA
#define lineGetAddressStatus lineGetAddressStatusA
#define lineGetCallInfo lineGetCallInfoA
#define lineGetDevCaps lineGetDevCapsA
#define lineGetID lineGetIDA
#define lineGetLineDevStatus lineGetLineDevStatusA
#define lineMakeCall lineMakeCallA
#define lineOpen lineOpenA
#define linePrepareAddToConference linePrepareAddToConferenceA
#define lineRedirect lineRedirectA
#define lineSetupConference lineSetupConferenceA
#define lineSetupTransfer lineSetupTransferA
#define phoneGetDevCaps phoneGetDevCapsA
#define phoneGetStatus phoneGetStatusA
#endif

#ifdef __cplusplus
}
#endif

#endif /* TAPI_H */
