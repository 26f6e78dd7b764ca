rem Added by `whatap install`; remove with `whatap uninstall`.
set WHATAP_HOME={{whatap_home}}
rem The newest tracer by version (2.2.33 after 2.2.9), not by name: X.Y.Z as X*1000000+Y*1000+Z;
rem %%WHATAP_MAX%% is read by a child cmd, so each jar sees the highest key so far.
set WHATAP_MAX=-1
set WHATAP_JAR=
for /f "delims=" %%f in ('dir /b "%WHATAP_HOME%\whatap.agent.tracer-*.jar" 2^>nul') do for /f "tokens=4-6 delims=.-" %%a in ("%%f") do for /f %%v in ('set /a %%a*1000000+%%b*1000+%%c') do for /f %%m in ('echo %%WHATAP_MAX%%') do if %%v gtr %%m (set "WHATAP_MAX=%%v" & set "WHATAP_JAR=%%f")
rem cmd.exe breaks the guard below when {{var}} is unset, so it is defined first.
if not defined {{var}} set "{{var}}= "
if x%{{var}}:whatap=%==x%{{var}}% (
  set {{var}}=%{{var}}% -javaagent:%WHATAP_HOME%\%WHATAP_JAR%{{options}}
)
