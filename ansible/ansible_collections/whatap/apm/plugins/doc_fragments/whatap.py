# -*- coding: utf-8 -*-
# Copyright: whatap maintainers; Apache-2.0
"""Option documentation the whatap.apm modules share."""

from __future__ import annotations


class ModuleDocFragment(object):

    # The binary and its global flags.
    DOCUMENTATION = r'''
options:
  binary:
    description:
      - The whatap binary to run, a name looked up in PATH or a path.
    type: str
    default: whatap
  state_dir:
    description:
      - The state directory (ledger, backups, lock), C(--state-dir). Default of the binary is
        C(/var/lib/whatap).
    type: path
  lang:
    description:
      - Language of the binary's messages (C(--lang)).
    type: str
    choices: [en, ko]
notes:
  - Runs C(whatap ... --json) on the managed host and reads its JSON document; the binary
    decides everything (see C(docs/cli-extensions.md) and C(docs/schemas/)).
  - A failure of the binary fails the task with the binary's message and hint.
requirements:
  - the whatap binary on the managed host (the C(whatap.apm.agent) role puts it there)
'''

    # Choosing the target, as the binary's target flags.
    TARGET = r'''
options:
  runtime:
    description:
      - C(--runtime), one of tomcat jboss wildfly weblogic websphere jeus jetty resin
        springboot php python infra.
    type: str
  home:
    description:
      - C(--home), the runtime's home (CATALINA_HOME, JBOSS_HOME, ...).
    type: path
  base:
    description:
      - C(--base), the instance directory where it differs from home (CATALINA_BASE, JETTY_BASE).
    type: path
  pid:
    description:
      - C(--pid), the running process; home and base are read from its command line.
    type: int
  php_bin:
    description:
      - C(--php-bin), PHP binaries to set up (default of the binary - every PHP found).
    type: list
    elements: path
  unit:
    description:
      - C(--unit), the systemd unit that runs a Spring Boot or Python application.
    type: str
  start_script:
    description:
      - C(--start-script), the script that starts a Spring Boot or Python application.
    type: path
  systemd_dir:
    description:
      - C(--systemd-dir), where unit drop-ins go.
    type: path
'''
