# -*- coding: utf-8 -*-
# Copyright: whatap maintainers; Apache-2.0
"""What the whatap.apm modules share: module options turned into the binary's long flags, one
run of the binary with --json, and its document turned into the task's result. The binary
does the work; nothing here re-implements it."""

from __future__ import annotations

import json

# The options every module has: the binary and its global flags.
COMMON_OPTIONS = dict(
    binary=dict(type='str', default='whatap'),
    state_dir=dict(type='path'),
    lang=dict(type='str', choices=['en', 'ko']),
)

# Choosing the target (install, uninstall, doctor), named as the binary's flags.
TARGET_OPTIONS = dict(
    runtime=dict(type='str'),
    home=dict(type='path'),
    base=dict(type='path'),
    pid=dict(type='int'),
    php_bin=dict(type='list', elements='path'),
    unit=dict(type='str'),
    start_script=dict(type='path'),
    systemd_dir=dict(type='path'),
)

METADATA = ('schema_version', 'whatap_version', 'host', 'generated_at')


def argument_spec(**options):
    """The common and target options plus a module's own."""
    spec = dict(COMMON_OPTIONS)
    spec.update(TARGET_OPTIONS)
    spec.update(options)
    return spec


def flags(params, names):
    """`--long-flag VALUE` for every option in `names` that is set: a list repeats the flag,
    true is the bare flag, false and None are left out."""
    args = []
    for name in names:
        value = params.get(name)
        flag = '--' + name.replace('_', '-')
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, list):
            for item in value:
                args.extend([flag, str(item)])
        else:
            args.extend([flag, str(value)])
    return args


def run(module, command, args, environ=None):
    """Runs `whatap COMMAND ARGS --json` (with --dry-run in check mode) and returns (rc, the
    document). The task fails with the binary's message and hint when the document is an
    error document, and with its output when there is no document at all."""
    binary = module.params['binary']
    if '/' not in binary:
        binary = module.get_bin_path(binary, required=True)
    cmd = [binary, command] + flags(module.params, ['state_dir', 'lang']) + args + ['--json']
    if module.check_mode:
        cmd.append('--dry-run')
    rc, out, err = module.run_command(cmd, environ_update=environ or {}, check_rc=False)
    try:
        document = json.loads(out)
    except ValueError:
        module.fail_json(msg='%s %s printed no JSON document (exit %s)' % (binary, command, rc),
                         rc=rc, stdout=out, stderr=err)
    error = document.get('error')
    if error:
        module.fail_json(msg=error.get('message'), hint=error.get('hint'),
                         kind=error.get('kind'), rc=rc, plan=document.get('plan'),
                         whatap=metadata(document))
    return rc, document


def metadata(document):
    """Which whatap wrote the document, on which host, when."""
    return dict((key, document.get(key)) for key in METADATA)


def change_result(module, document):
    """The result of a command that changes files (install, uninstall): `changed` from the
    document (in check mode: would change), the file diff in diff mode, the binary's
    warnings as task warnings."""
    for warning in document.get('warnings', []):
        module.warn(warning)
    result = dict(
        changed=bool(document.get('changed')),
        runtime=document.get('runtime'),
        target=document.get('target'),
        files=document.get('files', []),
        next_steps=document.get('next_steps', []),
        whatap=metadata(document),
    )
    for optional in ('run', 'attach'):
        if optional in document:
            result[optional] = document[optional]
    if module._diff and document.get('diff'):
        result['diff'] = dict(prepared=document['diff'])
    return result
