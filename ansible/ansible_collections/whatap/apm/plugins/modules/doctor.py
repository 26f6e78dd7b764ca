#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: whatap maintainers; Apache-2.0

from __future__ import annotations

DOCUMENTATION = r'''
module: doctor
short_description: Find out why WhaTap monitoring does not work on a host
description:
  - Runs C(whatap doctor --json) on the managed host and returns its findings (stable ids,
    severity, target, evidence, fix) and checks.
  - Findings are data - the task fails on them only as I(fail_on) says (default never), so a
    play can gather every host's findings and look at them together (C(whatap report)).
  - With I(fix), the safe fixes are applied (check mode - only planned) and reported as changes.
version_added: 0.1.0
author: whatap maintainers
extends_documentation_fragment:
  - whatap.apm.whatap
  - whatap.apm.whatap.target
options:
  network:
    description:
      - Probe the collectors and read the firewall rules; false runs C(--no-network).
    type: bool
    default: true
  log:
    description:
      - C(--log), also scan these log files.
    type: list
    elements: path
  full:
    description:
      - C(--full), scan whole logs, not only their recent tail.
    type: bool
    default: false
  fix:
    description:
      - C(--fix), apply the safe fixes (recorded like an install, so uninstall reverses them).
    type: bool
    default: false
  fail_on:
    description:
      - C(--fail-on), which findings fail the task - C(error) (any error finding), C(warning)
        (any error or warning finding) or C(never). The binary decides (its exit code 1).
    type: str
    choices: [error, warning, never]
    default: never
  only:
    description:
      - C(--only), run only these checks (finding ids, see C(whatap doctor --list-rules)).
    type: list
    elements: str
  skip:
    description:
      - C(--skip), leave these checks out.
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: Diagnose, and fail the host on any error finding
  whatap.apm.doctor:
    fail_on: error

- name: Gather every host's findings for whatap report
  whatap.apm.doctor:
    network: false
  register: doctor

- name: Save them on the controller
  ansible.builtin.copy:
    content: "{{ doctor.document | to_nice_json }}"
    dest: "reports/{{ inventory_hostname }}.json"
  delegate_to: localhost
'''

RETURN = r'''
ok:
  description: False when any finding has severity error.
  returned: always
  type: bool
findings:
  description: Every finding - id, severity (error warning info), target, title, evidence, fix.
  returned: always
  type: list
  elements: dict
  sample: [{"id": "agent-not-loaded", "severity": "error", "target": "tomcat /var/lib/tomcat10",
            "title": "...", "evidence": "PID 1234", "fix": "..."}]
checks:
  description: Every check of the catalog with its status (pass fail skip) and why.
  returned: always
  type: list
  elements: dict
  sample: [{"id": "agent-not-loaded", "status": "fail", "why": "1 finding(s); the first: PID 1234: ..."},
           {"id": "php-api-mismatch", "status": "skip", "why": "nothing of this kind on this host: php"}]
fixes:
  description: With I(fix), one install-style report per runtime.
  returned: when fix is true
  type: list
  elements: dict
document:
  description: The whole C(doctor --json) document, as C(whatap report) reads it.
  returned: always
  type: dict
whatap:
  description: The document's metadata - schema_version, whatap_version, host, generated_at.
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.whatap.apm.plugins.module_utils.whatap import (
    TARGET_OPTIONS, argument_spec, flags, metadata, run)

def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            network=dict(type='bool', default=True),
            log=dict(type='list', elements='path'),
            full=dict(type='bool', default=False),
            fix=dict(type='bool', default=False),
            fail_on=dict(type='str', choices=['error', 'warning', 'never'], default='never'),
            only=dict(type='list', elements='str'),
            skip=dict(type='list', elements='str'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    args = flags(params, list(TARGET_OPTIONS) + ['log', 'full', 'fix', 'only', 'skip', 'fail_on'])
    if not params['network']:
        args.append('--no-network')
    if params['fix']:
        args.append('--yes')
    # Exit 1 means findings at fail_on's level (the binary's --fail-on): still a document.
    rc, document = run(module, 'doctor', args)
    findings = document.get('findings', [])
    fixes = document.get('fixes')
    result = dict(
        changed=any(f.get('changed') for f in fixes or []),
        ok=bool(document.get('ok')),
        findings=findings,
        checks=document.get('checks', []),
        document=document,
        whatap=metadata(document),
    )
    if fixes is not None:
        result['fixes'] = fixes
    if rc == 1:
        ids = sorted(set(c.get('id') for c in result['checks'] if c.get('status') == 'fail'))
        module.fail_json(msg='doctor: findings at fail_on=%s; failed checks: %s'
                         % (params['fail_on'], ', '.join(ids)), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
