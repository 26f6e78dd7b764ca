rem Added by `whatap install`; remove with `whatap uninstall`.
if x%{{var}}:whatap=%==x%{{var}}% (
  set {{var}}=%{{var}}% -javaagent:{{jar}}{{options}}
)
