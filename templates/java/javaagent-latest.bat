rem Added by `whatap install`; remove with `whatap uninstall`.
set WHATAP_HOME={{whatap_home}}
for /f %%f in ('dir /b /on %WHATAP_HOME%\whatap.agent.tracer-*.jar') do set last=%%f
set WHATAP_JAR=%last%
if x%{{var}}:whatap=%==x%{{var}}% (
  set {{var}}=%{{var}}% -javaagent:%WHATAP_HOME%\%WHATAP_JAR%{{options}}
)
