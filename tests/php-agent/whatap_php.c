/* Stand-in for the proprietary whatap-php agent daemon (`whatap_php`), built by the tests:
 * like the real one it reads whatap.ini from $WHATAP_CONFIG_HOME, logs to
 * logs/whatap-boot-YYYYMMDD.log under its working directory (the service's WHATAP_HOME) and
 * listens on UDP localhost:<whatap.net_udp_port, default 6600> for what the extension sends. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static FILE *boot_log(void) {
    char name[64];
    time_t now = time(NULL);
    mkdir("logs", 0755);
    strftime(name, sizeof name, "logs/whatap-boot-%Y%m%d.log", localtime(&now));
    return fopen(name, "a");
}

static void say(FILE *log, const char *what, const char *value) {
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", localtime(&now));
    fprintf(log, "%s %s%s\n", stamp, what, value);
    fflush(log);
}

int main(void) {
    const char *home = getenv("WHATAP_CONFIG_HOME");
    char ini[4096], line[4096], port_text[16] = "6600";
    FILE *log = boot_log();
    if (!log) return 1;
    snprintf(ini, sizeof ini, "%s/whatap.ini", home ? home : ".");
    say(log, "[WA214] Config: ", ini);
    FILE *conf = fopen(ini, "r");
    if (!conf) {
        say(log, "[WA215] cannot read ", ini);
        return 1;
    }
    while (fgets(line, sizeof line, conf)) {
        if (strncmp(line, "whatap.net_udp_port=", 20) == 0) {
            snprintf(port_text, sizeof port_text, "%.15s", line + 20);
            port_text[strcspn(port_text, "\r\n")] = 0;
        }
    }
    fclose(conf);
    int sock = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(port_text));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(sock, (struct sockaddr *)&addr, sizeof addr) != 0) {
        say(log, "[WA636] Net UDP: cannot listen on localhost:", port_text);
        return 1;
    }
    say(log, "[WA635] Net UDP: Listener localhost:", port_text);
    char buf[65536];
    for (;;) recv(sock, buf, sizeof buf, 0);
}
