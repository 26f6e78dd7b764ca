# Added by `whatap install`; remove with `whatap uninstall`.
WHATAP_HOME={{whatap_home}}
# The newest tracer by version (2.2.33 after 2.2.9), not by name: each jar gets a key of
# zero-padded numbers, the highest key wins (POSIX sh + awk, no sort -V).
WHATAP_JAR=`ls ${WHATAP_HOME}/whatap.agent.tracer-*.jar 2>/dev/null | awk '{ v = $0; sub(/.*\/whatap\.agent\.tracer-/, "", v); sub(/\.jar$/, "", v); n = split(v, p, /[.-]/); k = ""; for (i = 1; i <= 4; i++) k = k sprintf("%09d", (i <= n && p[i] ~ /^[0-9]+$/) ? p[i] : 0); print k " " $0 }' | sort | tail -n 1 | cut -d " " -f 2-`
{{var}}="${{{var}}} -javaagent:${WHATAP_JAR}{{options}} "
