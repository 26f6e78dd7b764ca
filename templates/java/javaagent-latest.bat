rem Added by `whatap install`; remove with `whatap uninstall`.
set WHATAP_HOME={{whatap_home}}
rem The newest tracer by version (2.2.33 after 2.2.9), not by name: X.Y.Z as X*1000000+Y*1000+Z,
rem one jar per call of the subroutine below (no nested for /f: wine's cmd does not split there).
set WHATAP_MAX=-1
set WHATAP_JAR=
for /f "delims=" %%f in ('dir /b "%WHATAP_HOME%\whatap.agent.tracer-*.jar" 2^>nul') do call :whatap_newer "%%f"
goto whatap_newest
:whatap_newer
set WHATAP_KEY=-1
for /f "tokens=4-6 delims=.-" %%a in ("%~1") do set /a WHATAP_KEY=%%a*1000000+%%b*1000+%%c 2>nul
if %WHATAP_KEY% gtr %WHATAP_MAX% set "WHATAP_JAR=%~1"
if %WHATAP_KEY% gtr %WHATAP_MAX% set "WHATAP_MAX=%WHATAP_KEY%"
goto :eof
:whatap_newest
rem cmd.exe breaks the guard below when {{var}} is unset, so it is defined first.
if not defined {{var}} set "{{var}}= "
if x%{{var}}:whatap=%==x%{{var}}% (
  set {{var}}=%{{var}}% -javaagent:%WHATAP_HOME%\%WHATAP_JAR%{{options}}
)
