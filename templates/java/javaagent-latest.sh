# Added by `whatap install`; remove with `whatap uninstall`.
WHATAP_HOME={{whatap_home}}
WHATAP_JAR=`ls ${WHATAP_HOME}/whatap.agent.tracer-*.jar | sort | tail -1`
{{var}}="${{{var}}} -javaagent:${WHATAP_JAR}{{options}} "
