/* ProcessPrng for Debian 12's wine 8, which lacks bcryptprimitives.dll: Rust's std (1.78+)
 * imports it on Windows 10+, where it always exists. Test-only; put in the wine prefix's
 * system32 by tests/it/windows.rs, never shipped. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
