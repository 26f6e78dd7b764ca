/* Stand-in for WhaTap's proprietary whatap.so in tests: a real extension named `whatap` that
 * declares the agent's ini keys (so ini_get() shows what whatap.ini set) and logs on MINIT. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "php.h"
#include "php_ini.h"
#include "ext/standard/info.h"
#include "SAPI.h"

PHP_INI_BEGIN()
    PHP_INI_ENTRY("whatap.license", "", PHP_INI_SYSTEM, NULL)
    PHP_INI_ENTRY("whatap.server.host", "", PHP_INI_SYSTEM, NULL)
    PHP_INI_ENTRY("whatap.app_name", "", PHP_INI_SYSTEM, NULL)
    PHP_INI_ENTRY("whatap.app_process_name", "", PHP_INI_SYSTEM, NULL)
PHP_INI_END()

static PHP_MINIT_FUNCTION(whatap)
{
    REGISTER_INI_ENTRIES();
    const char *log = getenv("WHATAP_STUB_LOG");
    if (log != NULL && *log != '\0') {
        FILE *f = fopen(log, "a");
        if (f != NULL) {
            fprintf(f, "whatap stub MINIT pid=%d sapi=%s\n", (int)getpid(), sapi_module.name);
            fclose(f);
        }
    }
    return SUCCESS;
}

static PHP_MSHUTDOWN_FUNCTION(whatap)
{
    UNREGISTER_INI_ENTRIES();
    return SUCCESS;
}

static PHP_MINFO_FUNCTION(whatap)
{
    php_info_print_table_start();
    php_info_print_table_row(2, "whatap test stub", "enabled");
    php_info_print_table_end();
    DISPLAY_INI_ENTRIES();
}

zend_module_entry whatap_module_entry = {
    STANDARD_MODULE_HEADER,
    "whatap",
    NULL,
    PHP_MINIT(whatap),
    PHP_MSHUTDOWN(whatap),
    NULL,
    NULL,
    PHP_MINFO(whatap),
    "0.0.1",
    STANDARD_MODULE_PROPERTIES
};

#ifdef COMPILE_DL_WHATAP
ZEND_GET_MODULE(whatap)
#endif
