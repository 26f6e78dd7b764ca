#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: whatap maintainers; Apache-2.0

from __future__ import annotations

DOCUMENTATION = r'''
module: install
short_description: Install a WhaTap APM agent with the whatap binary
description:
  - Runs C(whatap install --json --yes) on the managed host with the options below as its
    flags. The binary plans every file change, applies it atomically with a backup and a
    ledger, and reports what it changed; a second run with the same options changes nothing.
  - Check mode runs C(--dry-run) and reports whether the real run would change anything.
    Diff mode shows the unified diff of every file (the license masked).
  - C(whatap.apm.uninstall) reverses what this recorded.
version_added: 0.1.0
author: whatap maintainers
extends_documentation_fragment:
  - whatap.apm.whatap
  - whatap.apm.whatap.target
options:
  license:
    description:
      - The project access key (C(--license)). Passed to the binary in its environment, never
        on its command line; never shown in output.
      - Not needed with I(pause) or I(resume).
    type: str
  host:
    description:
      - C(--host), the collector hosts, C(/)-separated as in whatap.conf.
    type: str
  agent_jar:
    description:
      - C(--agent-jar), the C(whatap.agent.tracer-X.Y.Z.jar) to install (Java runtimes).
    type: path
  agent_archive:
    description:
      - C(--agent-archive), the agent distribution - a directory, a .zip or .tar.gz on the
        managed host, or an http(s) URL (checked against I(sha256) or C(<URL>.sha256)).
    type: str
  sha256:
    description:
      - C(--sha256), expected checksum of I(agent_archive).
    type: str
  offline:
    description:
      - C(--offline), the archive only from the binary's cache or a local path.
    type: bool
    default: false
  whatap_home:
    description:
      - C(--whatap-home), where the agent files and whatap.conf go.
    type: path
  port:
    description:
      - C(--port), C(-Dwhatap.port).
    type: int
  name:
    description:
      - C(--name), C(-Dwhatap.name), an application name pattern.
    type: str
  oname:
    description:
      - C(--oname), C(-Dwhatap.oname), a fixed application name.
    type: str
  cypher_level:
    description:
      - C(--cypher-level), whatap.conf C(cypher_level).
    type: str
    choices: ['128', '256']
  set:
    description:
      - C(--set KEY=VALUE) for any other whatap.conf key, one item each.
    type: list
    elements: str
  method:
    description:
      - C(--method), where the option goes when a runtime offers several (Tomcat C(setenv)
        or C(catalina), ...).
    type: str
  latest_jar:
    description:
      - C(--latest-jar), the start script picks the newest agent jar at each start.
    type: bool
    default: false
  attach:
    description:
      - C(--attach), also load the agent into the running JVM now.
    type: bool
    default: false
  python:
    description:
      - C(--python), the application's interpreter or virtualenv (Python).
    type: path
  app_name:
    description:
      - C(--app-name), whatap.conf C(app_name) (Python).
    type: str
  app_process_name:
    description:
      - C(--app-process-name), whatap.conf C(app_process_name) (Python).
    type: str
  pause:
    description:
      - C(--pause), comment out C(extension=whatap.so) where it was installed (PHP).
    type: bool
    default: false
  resume:
    description:
      - C(--resume), uncomment it again (PHP).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Tomcat with the agent jar already on the host
  whatap.apm.install:
    home: /usr/share/tomcat10
    base: /var/lib/tomcat10
    license: "{{ vault_whatap_license }}"
    host: 13.124.11.223/13.209.172.35
    agent_jar: /opt/dist/whatap.agent.tracer-2.2.33.jar
    whatap_home: /opt/whatap
  notify: restart tomcat

- name: Only show what would change (run the play with --check --diff)
  whatap.apm.install:
    runtime: tomcat
    license: "{{ vault_whatap_license }}"
    host: 13.124.11.223
    agent_archive: https://mirror.example.com/whatap/agent.tar.gz
'''

RETURN = r'''
changed:
  description: Whether files were written (in check mode - whether they would be).
  returned: always
  type: bool
runtime:
  description: The runtime installed into, as in C(--runtime).
  returned: success
  type: str
  sample: tomcat
target:
  description: The instance directory (CATALINA_BASE, ...).
  returned: success
  type: str
files:
  description: Every file of the plan and what was done with it.
  returned: success
  type: list
  elements: dict
  sample: [{"path": "/var/lib/tomcat10/bin/setenv.sh", "action": "created", "backup": null}]
next_steps:
  description: What the operator still has to do, e.g. restart the server.
  returned: success
  type: list
  elements: str
run:
  description: Programs the plan ran (pip into a Python application's interpreter).
  returned: when the plan runs any
  type: list
  elements: str
attach:
  description: What loading the agent into the running JVM did (I(attach)).
  returned: when attach is true
  type: dict
whatap:
  description: The document's metadata - schema_version, whatap_version, host, generated_at.
  returned: always
  type: dict
hint:
  description: On failure, the binary's hint (how to fix it).
  returned: failure
  type: str
kind:
  description: On failure, refused, bad-input, rolled-back or internal.
  returned: failure
  type: str
plan:
  description: On a refused change, the files and diff it would have made.
  returned: when refused
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.whatap.apm.plugins.module_utils.whatap import (
    TARGET_OPTIONS, argument_spec, change_result, flags, run)

# Options passed as flags, in the order of the contract's tables.
INSTALL_FLAGS = [
    'host', 'agent_jar', 'agent_archive', 'sha256', 'offline', 'whatap_home', 'port', 'name',
    'oname', 'cypher_level', 'set', 'method', 'latest_jar', 'attach', 'python', 'app_name',
    'app_process_name', 'pause', 'resume',
]


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            license=dict(type='str', no_log=True),
            host=dict(type='str'),
            agent_jar=dict(type='path'),
            agent_archive=dict(type='str'),
            sha256=dict(type='str'),
            offline=dict(type='bool', default=False),
            whatap_home=dict(type='path'),
            port=dict(type='int'),
            name=dict(type='str'),
            oname=dict(type='str'),
            cypher_level=dict(type='str', choices=['128', '256']),
            set=dict(type='list', elements='str'),
            method=dict(type='str'),
            latest_jar=dict(type='bool', default=False),
            attach=dict(type='bool', default=False),
            python=dict(type='path'),
            app_name=dict(type='str'),
            app_process_name=dict(type='str'),
            pause=dict(type='bool', default=False),
            resume=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('pause', 'resume')],
        supports_check_mode=True,
    )
    args = flags(module.params, list(TARGET_OPTIONS) + INSTALL_FLAGS) + ['--yes']
    # The key goes through the environment: never on a command line `ps` shows.
    environ = {'WHATAP_LICENSE': module.params['license'] or ''}
    rc, document = run(module, 'install', args, environ)
    module.exit_json(**change_result(module, document))


if __name__ == '__main__':
    main()
