# Added by `whatap install`; remove with `whatap uninstall`.
{{var}}="${{{var}}} -javaagent:{{jar}}{{options}} "
