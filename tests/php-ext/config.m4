dnl Stand-in for WhaTap's proprietary whatap.so: a real PHP extension named `whatap`.
PHP_ARG_ENABLE([whatap], [whether to enable the whatap test stub], [AS_HELP_STRING([--enable-whatap], [Enable the whatap test stub])], [yes])
if test "$PHP_WHATAP" != "no"; then
  PHP_NEW_EXTENSION(whatap, whatap.c, $ext_shared)
fi
