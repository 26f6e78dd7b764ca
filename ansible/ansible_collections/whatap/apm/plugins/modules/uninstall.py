#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: whatap maintainers; Apache-2.0

from __future__ import annotations

DOCUMENTATION = r'''
module: uninstall
short_description: Reverse what whatap install recorded
description:
  - Runs C(whatap uninstall --json --yes) on the managed host. Every file still as the
    install wrote it gets its original bytes back; a file edited since loses only the agent's
    block or keys; a block that was itself altered fails the task with the file and line.
  - Check mode runs C(--dry-run); diff mode shows the diff of every file.
  - With no target option, the only install recorded in the state directory is reversed.
version_added: 0.1.0
author: whatap maintainers
extends_documentation_fragment:
  - whatap.apm.whatap
  - whatap.apm.whatap.target
options: {}
'''

EXAMPLES = r'''
- name: Take the agent out of Tomcat again
  whatap.apm.uninstall:
    home: /usr/share/tomcat10
    base: /var/lib/tomcat10
  notify: restart tomcat
'''

RETURN = r'''
changed:
  description: Whether files were written (in check mode - whether they would be).
  returned: always
  type: bool
runtime:
  description: The runtime the install was for (empty when nothing was recorded).
  returned: success
  type: str
target:
  description: The instance directory.
  returned: success
  type: str
files:
  description: Every file put back or removed, and what was done with it.
  returned: success
  type: list
  elements: dict
next_steps:
  description: What the operator still has to do, e.g. restart the server.
  returned: success
  type: list
  elements: str
whatap:
  description: The document's metadata - schema_version, whatap_version, host, generated_at.
  returned: always
  type: dict
hint:
  description: On failure, the binary's hint.
  returned: failure
  type: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.whatap.apm.plugins.module_utils.whatap import (
    TARGET_OPTIONS, argument_spec, change_result, flags, run)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    args = flags(module.params, list(TARGET_OPTIONS)) + ['--yes']
    rc, document = run(module, 'uninstall', args)
    module.exit_json(**change_result(module, document))


if __name__ == '__main__':
    main()
