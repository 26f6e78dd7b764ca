rem Added by `whatap install`; remove with `whatap uninstall`.
rem cmd.exe breaks the guard below when {{var}} is unset, so it is defined first.
if not defined {{var}} set "{{var}}= "
if x%{{var}}:whatap=%==x%{{var}}% (
  set {{var}}=%{{var}}% -javaagent:{{jar}}{{options}}
)
