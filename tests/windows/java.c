/* A stand-in java.exe for the Windows tests: appends its whole command line (as Windows
 * passed it, UTF-8) and a newline to the file named by %WHATAP_STUB_JAVA_OUT%, then exits 0;
 * with %WHATAP_STUB_JAVA_SECONDS% set, it first stays up that long (a running JVM to detect).
 * Built with mingw-w64 by tests/it/windows.rs: what reaches the JVM is what is checked. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    const wchar_t *out = _wgetenv(L"WHATAP_STUB_JAVA_OUT");
    if (!out) return 2;
    const wchar_t *line = GetCommandLineW();
    int len = WideCharToMultiByte(CP_UTF8, 0, line, -1, NULL, 0, NULL, NULL);
    char *utf8 = malloc(len);
    if (!utf8) return 3;
    WideCharToMultiByte(CP_UTF8, 0, line, -1, utf8, len, NULL, NULL);
    FILE *f = _wfopen(out, L"ab");
    if (!f) return 4;
    fprintf(f, "%s\n", utf8);
    fclose(f);
    const wchar_t *seconds = _wgetenv(L"WHATAP_STUB_JAVA_SECONDS");
    if (seconds) Sleep(1000 * (DWORD)_wtoi(seconds));
    return 0;
}
