"""preview_summary on real `pulumi preview --json` output.

The fixtures were recorded with the project's Pulumi CLI (v3.259.0) through the Automation API
(`stack.preview(json=True)`; the event list with PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true), from
a scratch program whose dynamic resources carry helmlife's step type tokens, resource names and
inputs and use helmlife's own step `diff` functions. They were trimmed only of what the summary
does not read: stack traces, timestamps, provider references, outputs other than `owned_crds`,
and inputs that are equal on both sides of a step or irrelevant to a create/delete.
"""
from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from helmlife import preview_summary as ps
from helmlife.preview_summary import UNKNOWN, main, summarize

# dev: demo-operator 1.0.0 -> 2.0.0, hello-repo added, old-operator removed, demo-app unchanged.
UPGRADE = {'steps': [{'op': 'same',
                      'urn': 'urn:pulumi:dev::helmlife::pulumi:pulumi:Stack::helmlife-dev',
                      'oldState': {'type': 'pulumi:pulumi:Stack'},
                      'newState': {'type': 'pulumi:pulumi:Stack'},
                      'detailedDiff': None},
                     {'op': 'create',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart::hello-repo',
                      'newState': {'type': 'helmlife:index:LifecycleChart'},
                      'detailedDiff': None},
                     {'op': 'update',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Prerequisites::demo-operator-prerequisites',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:Prerequisites',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_digest': 'd-1.0.0',
                                              'chart_version': '1.0.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'release': 'demo-operator',
                                              'spec': {'chart': {'path': 'charts/demo-operator/1.0.0'},
                                                       'name': 'demo-operator'}}},
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:Prerequisites',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_digest': 'd-2.0.0',
                                              'chart_version': '2.0.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'release': 'demo-operator',
                                              'spec': {'chart': {'path': 'charts/demo-operator/2.0.0'},
                                                       'name': 'demo-operator'}}},
                      'detailedDiff': None},
                     {'op': 'create',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Prerequisites::hello-repo-prerequisites',
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:Prerequisites'},
                      'detailedDiff': None},
                     {'op': 'update',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:PreExec::demo-operator-pre-exec',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:PreExec',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '1.0.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'payload': {'step': 'prerequisites'},
                                              'release': 'demo-operator',
                                              'spec': {'chart': {'path': 'charts/demo-operator/1.0.0'},
                                                       'name': 'demo-operator'}}},
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:PreExec',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '2.0.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'payload': '04da6b54-80e4-46f7-96ec-b56ff0331ba9',
                                              'release': 'demo-operator',
                                              'spec': {'chart': {'path': 'charts/demo-operator/2.0.0'},
                                                       'name': 'demo-operator'}}},
                      'detailedDiff': None},
                     {'op': 'create',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:PreExec::hello-repo-pre-exec',
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:PreExec'},
                      'detailedDiff': None},
                     {'op': 'create',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:CrdCleanup::hello-repo-crds',
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '0.1.0',
                                              'crds': [],
                                              'force_crd_deletion': False,
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'release': 'hello-repo'}},
                      'detailedDiff': None},
                     {'op': 'update',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Release::demo-operator-release',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                   'inputs': {'__provider': '[secret]',
                                              'chart': {'path': 'charts/demo-operator/1.0.0'},
                                              'chart_digest': 'd-1.0.0',
                                              'chart_version': '1.0.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'payload': {'step': 'pre_exec'},
                                              'release': 'demo-operator',
                                              'spec': {'chart': {'path': 'charts/demo-operator/1.0.0'},
                                                       'name': 'demo-operator'}}},
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                   'inputs': {'__provider': '[secret]',
                                              'chart': {'path': 'charts/demo-operator/2.0.0'},
                                              'chart_digest': 'd-2.0.0',
                                              'chart_version': '2.0.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'payload': '04da6b54-80e4-46f7-96ec-b56ff0331ba9',
                                              'release': 'demo-operator',
                                              'spec': {'chart': {'path': 'charts/demo-operator/2.0.0'},
                                                       'name': 'demo-operator'}}},
                      'detailedDiff': None},
                     {'op': 'create',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Release::hello-repo-release',
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '0.1.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'release': 'hello-repo'}},
                      'detailedDiff': None},
                     {'op': 'create',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:PostExec::hello-repo-post-exec',
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:PostExec'},
                      'detailedDiff': None},
                     {'op': 'update',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:PostExec::demo-operator-post-exec',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:PostExec',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '1.0.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'payload': {'step': 'release'},
                                              'release': 'demo-operator',
                                              'revision': 1,
                                              'spec': {'chart': {'path': 'charts/demo-operator/1.0.0'},
                                                       'name': 'demo-operator'}}},
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:PostExec',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '2.0.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'payload': '04da6b54-80e4-46f7-96ec-b56ff0331ba9',
                                              'release': 'demo-operator',
                                              'revision': '04da6b54-80e4-46f7-96ec-b56ff0331ba9',
                                              'spec': {'chart': {'path': 'charts/demo-operator/2.0.0'},
                                                       'name': 'demo-operator'}}},
                      'detailedDiff': None},
                     {'op': 'create',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Validate::hello-repo-validate',
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:Validate'},
                      'detailedDiff': None},
                     {'op': 'update',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Validate::demo-operator-validate',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:Validate',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '1.0.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'payload': {'step': 'post_exec'},
                                              'release': 'demo-operator',
                                              'revision': 1,
                                              'spec': {'chart': {'path': 'charts/demo-operator/1.0.0'},
                                                       'name': 'demo-operator'}}},
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:Validate',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '2.0.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'payload': '04da6b54-80e4-46f7-96ec-b56ff0331ba9',
                                              'release': 'demo-operator',
                                              'revision': '04da6b54-80e4-46f7-96ec-b56ff0331ba9',
                                              'spec': {'chart': {'path': 'charts/demo-operator/2.0.0'},
                                                       'name': 'demo-operator'}}},
                      'detailedDiff': None},
                     {'op': 'delete',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Validate::old-operator-validate',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:Validate'},
                      'detailedDiff': None},
                     {'op': 'delete',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:PostExec::old-operator-post-exec',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:PostExec'},
                      'detailedDiff': None},
                     {'op': 'delete',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Release::old-operator-release',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '0.3.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'release': 'old-operator'}},
                      'detailedDiff': None},
                     {'op': 'delete',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:CrdCleanup::old-operator-crds',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '0.3.0',
                                              'crds': ['gadgets.old.example.com', 'gizmos.old.example.com'],
                                              'force_crd_deletion': False,
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'release': 'old-operator'},
                                   'outputs': {'owned_crds': ['gadgets.old.example.com', 'gizmos.old.example.com']}},
                      'detailedDiff': None},
                     {'op': 'delete',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:PreExec::old-operator-pre-exec',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:PreExec'},
                      'detailedDiff': None},
                     {'op': 'delete',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Prerequisites::old-operator-prerequisites',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:Prerequisites'},
                      'detailedDiff': None},
                     {'op': 'delete',
                      'urn': 'urn:pulumi:dev::helmlife::helmlife:index:LifecycleChart::old-operator',
                      'oldState': {'type': 'helmlife:index:LifecycleChart'},
                      'detailedDiff': None}],
           'duration': 1645589422,
           'changeSummary': {'create': 7, 'delete': 7, 'same': 10, 'update': 5}}

# staging: web moves namespace (every step replaced), demo-app gets a new value. Four of its steps.
REPLACE = {'steps': [{'op': 'update',
                      'urn': 'urn:pulumi:staging::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:PreExec::demo-app-pre-exec',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:PreExec',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '0.1.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'release': 'demo-app',
                                              'values_digest': '{"message": "hello"}'}},
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:PreExec',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '0.1.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'release': 'demo-app',
                                              'values_digest': '{"message": "hello from staging"}'}},
                      'detailedDiff': None},
                     {'op': 'replace',
                      'urn': 'urn:pulumi:staging::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:CrdCleanup::web-crds',
                      'replaceReasons': ['namespace'],
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '1.2.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'release': 'web'},
                                   'outputs': {'owned_crds': ['routes.web.example.com']}},
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '1.2.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'web-prod',
                                              'release': 'web'}},
                      'detailedDiff': None},
                     {'op': 'update',
                      'urn': 'urn:pulumi:staging::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Release::demo-app-release',
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '0.1.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'payload': {'step': 'pre_exec'},
                                              'release': 'demo-app',
                                              'values': {'message': 'hello'}}},
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '0.1.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'payload': {'step': 'prerequisites'},
                                              'release': 'demo-app',
                                              'values': {'message': 'hello from staging'}}},
                      'detailedDiff': None},
                     {'op': 'replace',
                      'urn': 'urn:pulumi:staging::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Release::web-release',
                      'replaceReasons': ['namespace'],
                      'oldState': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '1.2.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'helmlife-dev',
                                              'payload': {'step': 'pre_exec'},
                                              'release': 'web'}},
                      'newState': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                   'inputs': {'__provider': '[secret]',
                                              'chart_version': '1.2.0',
                                              'kubeconfig': '[secret]',
                                              'namespace': 'web-prod',
                                              'payload': '04da6b54-80e4-46f7-96ec-b56ff0331ba9',
                                              'release': 'web'}},
                      'detailedDiff': None}],
           'changeSummary': {'replace': 6, 'same': 5, 'update': 4}}

# The same staging preview as streamed engine events (three of its steps, collapsed from create-replacement,
# replace and delete-replaced events).
EVENTS = [{'preludeEvent': {'config': {}}},
          {'diagnosticEvent': {'prefix': 'debug: ',
                               'message': 'registering resource: ty=pulumi:pulumi:Stack, name=helmlife-staging, '
                                          'custom=False, remote=False\n',
                               'color': 'never',
                               'severity': 'debug'}},
          {'resourcePreEvent': {'metadata': {'op': 'create-replacement',
                                             'urn': 'urn:pulumi:staging::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:CrdCleanup::web-crds',
                                             'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                             'old': {'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                                     'inputs': {'chart_version': '1.2.0',
                                                                'crds': ['routes.web.example.com'],
                                                                'force_crd_deletion': False,
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'helmlife-dev',
                                                                'release': 'web'},
                                                     'outputs': {'owned_crds': ['routes.web.example.com']}},
                                             'new': {'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                                     'inputs': {'chart_version': '1.2.0',
                                                                'crds': ['routes.web.example.com'],
                                                                'force_crd_deletion': False,
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'web-prod',
                                                                'release': 'web'}},
                                             'keys': ['namespace'],
                                             'detailedDiff': None,
                                             'provider': ''},
                                'planning': True}},
          {'resourcePreEvent': {'metadata': {'op': 'replace',
                                             'urn': 'urn:pulumi:staging::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:CrdCleanup::web-crds',
                                             'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                             'old': {'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                                     'inputs': {'chart_version': '1.2.0',
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'helmlife-dev',
                                                                'release': 'web'},
                                                     'outputs': {'owned_crds': ['routes.web.example.com']}},
                                             'new': {'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                                     'inputs': {'chart_version': '1.2.0',
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'web-prod',
                                                                'release': 'web'}},
                                             'keys': ['namespace'],
                                             'detailedDiff': None,
                                             'provider': ''},
                                'planning': True}},
          {'resourcePreEvent': {'metadata': {'op': 'update',
                                             'urn': 'urn:pulumi:staging::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Release::demo-app-release',
                                             'type': 'pulumi-python:dynamic/helmlife:Release',
                                             'old': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                                     'inputs': {'chart_version': '0.1.0',
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'helmlife-dev',
                                                                'payload': {'step': 'pre_exec'},
                                                                'release': 'demo-app',
                                                                'values': {'message': 'hello'}}},
                                             'new': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                                     'inputs': {'chart_version': '0.1.0',
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'helmlife-dev',
                                                                'payload': {'step': 'prerequisites'},
                                                                'release': 'demo-app',
                                                                'values': {'message': 'hello from staging'}}},
                                             'detailedDiff': None,
                                             'provider': ''},
                                'planning': True}},
          {'resourcePreEvent': {'metadata': {'op': 'create-replacement',
                                             'urn': 'urn:pulumi:staging::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Release::web-release',
                                             'type': 'pulumi-python:dynamic/helmlife:Release',
                                             'old': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                                     'inputs': {'chart_version': '1.2.0',
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'helmlife-dev',
                                                                'release': 'web'}},
                                             'new': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                                     'inputs': {'chart_version': '1.2.0',
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'web-prod',
                                                                'release': 'web'}},
                                             'keys': ['namespace'],
                                             'detailedDiff': None,
                                             'provider': ''},
                                'planning': True}},
          {'resourcePreEvent': {'metadata': {'op': 'replace',
                                             'urn': 'urn:pulumi:staging::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Release::web-release',
                                             'type': 'pulumi-python:dynamic/helmlife:Release',
                                             'old': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                                     'inputs': {'chart_version': '1.2.0',
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'helmlife-dev',
                                                                'payload': {'step': 'pre_exec'},
                                                                'release': 'web'}},
                                             'new': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                                     'inputs': {'chart_version': '1.2.0',
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'web-prod',
                                                                'payload': '04da6b54-80e4-46f7-96ec-b56ff0331ba9',
                                                                'release': 'web'}},
                                             'keys': ['namespace'],
                                             'detailedDiff': None,
                                             'provider': ''},
                                'planning': True}},
          {'resourcePreEvent': {'metadata': {'op': 'delete-replaced',
                                             'urn': 'urn:pulumi:staging::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:Release::web-release',
                                             'type': 'pulumi-python:dynamic/helmlife:Release',
                                             'old': {'type': 'pulumi-python:dynamic/helmlife:Release',
                                                     'inputs': {'chart_version': '1.2.0',
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'helmlife-dev',
                                                                'release': 'web'}},
                                             'new': None,
                                             'detailedDiff': None,
                                             'provider': ''},
                                'planning': True}},
          {'resourcePreEvent': {'metadata': {'op': 'delete-replaced',
                                             'urn': 'urn:pulumi:staging::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:CrdCleanup::web-crds',
                                             'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                             'old': {'type': 'pulumi-python:dynamic/helmlife:CrdCleanup',
                                                     'inputs': {'chart_version': '1.2.0',
                                                                'crds': ['routes.web.example.com'],
                                                                'force_crd_deletion': False,
                                                                'kubeconfig': {'4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270',
                                                                               'ciphertext': '[secret]'},
                                                                'namespace': 'helmlife-dev',
                                                                'release': 'web'},
                                                     'outputs': {'owned_crds': ['routes.web.example.com']}},
                                             'new': None,
                                             'detailedDiff': None,
                                             'provider': ''},
                                'planning': True}},
          {'summaryEvent': {'maybeCorrupt': False,
                            'durationSeconds': 2,
                            'resourceChanges': {'replace': 6, 'same': 5, 'update': 4},
                            'PolicyPacks': {},
                            'isPreview': True,
                            'result': 'succeeded'}}]




def modern(preview: Any) -> Any:
    """The recordings above predate the step table, when step inputs repeated `release` and
    `namespace` beside `spec`; today those live only in `spec`, and a rename is reported by
    the engine as a replacement on `spec`."""
    if isinstance(preview, list):
        return [modern(e) for e in preview]
    if not isinstance(preview, dict):
        return preview
    out = {k: modern(v) for k, v in preview.items()}
    inputs = out.get("inputs")
    if isinstance(inputs, dict) and ("release" in inputs or "namespace" in inputs):
        spec = dict(inputs.get("spec") or {})
        spec.update({"name": inputs.pop("release", None), "namespace": inputs.pop("namespace", None)})
        inputs["spec"] = spec
    for key in ("replaceReasons", "keys"):
        if out.get(key) == ["namespace"]:
            out[key] = ["spec"]
    return out


UPGRADE, REPLACE, EVENTS = modern(UPGRADE), modern(REPLACE), modern(EVENTS)

# A preview that failed in the program: Pulumi still prints the digest, with the error (traceback cut).
FAILED = {'steps': [{'op': 'same',
                     'urn': 'urn:pulumi:dev::helmlife::pulumi:pulumi:Stack::helmlife-dev',
                     'oldState': {'type': 'pulumi:pulumi:Stack'},
                     'newState': {'type': 'pulumi:pulumi:Stack'},
                     'detailedDiff': None}],
          'diagnostics': [{'message': "error: python inline source runtime error: stack 'dev', chart 'demo-app': namespace: "
                                      "'Bad_NS' is not a valid namespace\n"
                                      'Traceback (most recent call last):\n'
                                      '  File "/work/main/.venv/lib/python3.11/site-packages/pulumi/automation/_server.py", '
                                      'line 95, in run\n'
                                      '    loop.run_until_complete(run_in_stack(self.program))\n'
                                      '  [...]\n'
                                      "ValueError: stack 'dev', chart 'demo-app': namespace: 'Bad_NS' is not a valid "
                                      'namespace\n'
                                      '\n',
                           'severity': 'error'},
                          {'message': "error: an unhandled error occurred: python inline source runtime error: stack 'dev', "
                                      "chart 'demo-app': namespace: 'Bad_NS' is not a valid namespace\n"
                                      'Traceback (most recent call last):\n'
                                      '  File "/work/main/.venv/lib/python3.11/site-packages/pulumi/automation/_server.py", '
                                      'line 95, in run\n'
                                      '    loop.run_until_complete(run_in_stack(self.program))\n'
                                      '  [...]\n'
                                      "ValueError: stack 'dev', chart 'demo-app': namespace: 'Bad_NS' is not a valid "
                                      'namespace\n'
                                      '\n',
                           'severity': 'error'}],
          'duration': 28931052,
          'changeSummary': {'same': 1}}


def urn(stack: str, kind: str | None, name: str) -> str:
    if kind is None:
        return f"urn:pulumi:{stack}::helmlife::helmlife:index:LifecycleChart::{name}"
    return (f"urn:pulumi:{stack}::helmlife::helmlife:index:LifecycleChart$pulumi-python:dynamic/helmlife:{kind}"
            f"::{name}")


def state(kind: str, **inputs: Any) -> dict[str, Any]:
    return {"type": f"pulumi-python:dynamic/helmlife:{kind}", "inputs": inputs}


def row(markdown: str, chart: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith(f"| `{chart}` |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_upgrade_preview_exact() -> None:
    assert summarize(UPGRADE) == (
        "### Preview of stack `dev`\n"
        "\n"
        "Resources: 7 to create, 5 to update, 7 to delete, 10 unchanged.\n"
        "\n"
        "| Chart | Release | Lifecycle steps that run (and why) |\n"
        "|---|---|---|\n"
        "| `demo-operator` | upgrade 1.0.0 → 2.0.0 | check_prerequisites, release — update: `chart_digest`, "
        "`chart_version`, `spec.chart`<br>pre_exec — update: `chart_version`<br>post_exec, validate — update: "
        "`revision` |\n"
        "| `hello-repo` | install 0.1.0 | check_prerequisites, pre_exec, crd_cleanup, release, post_exec, validate "
        "— create |\n"
        "| `old-operator` | uninstall 0.3.0 | check_prerequisites, pre_exec, crd_cleanup, release, post_exec, "
        "validate — delete |\n"
        "\n"
        "**CRDs that will be deleted** (deleting a CRD deletes every custom resource of its kind):\n"
        "- `old-operator`: removed with the chart: `gadgets.old.example.com`, `gizmos.old.example.com`. "
        "The delete stops if custom resources of them still exist.\n"
    )


def test_recorded_preview_has_no_diff_reasons_so_inputs_are_compared() -> None:
    """The reason the module diffs inputs itself: dynamic providers report no changed keys."""
    updates = [s for s in UPGRADE["steps"] if s["op"] == "update"]
    assert updates and all("diffReasons" not in s and s["detailedDiff"] is None for s in updates)
    charts = ps.collect(UPGRADE["steps"])
    pre = charts["demo-operator"].steps["pre_exec"]
    assert {"payload", "spec.chart", "chart_version"} <= pre.reasons  # raw: every changed input
    assert ps.why(pre) == ["chart_version"]


def test_unchanged_charts_and_the_stack_are_left_out() -> None:
    md = summarize(UPGRADE)
    assert "demo-app" not in md and "helmlife-dev" not in md


def test_replace_preview() -> None:
    md = summarize(REPLACE)
    assert md.startswith("### Preview of stack `staging`\n\nResources: 4 to update, 6 to replace, 5 unchanged.\n")
    assert row(md, "web") == ["`web`", "reinstall 1.2.0 (namespace helmlife-dev → web-prod)",
                              "crd_cleanup, release — replace: `spec.namespace`"]
    assert row(md, "demo-app") == ["`demo-app`", "upgrade 0.1.0 (same chart version)",
                                   "pre_exec — update: `values_digest`<br>release — update: `values`"]
    assert ("- `web`: its crd_cleanup step is replaced, and deleting the old copy deletes: `routes.web.example.com`. "
            "The delete stops if custom resources of them still exist.") in md


def test_engine_events_form_matches_the_digest() -> None:
    md = summarize(EVENTS)
    assert row(md, "web") == row(summarize(REPLACE), "web")
    assert row(md, "demo-app") == ["`demo-app`", "upgrade 0.1.0 (same chart version)", "release — update: `values`"]
    assert "Resources: 4 to update, 6 to replace, 5 unchanged." in md
    assert "`routes.web.example.com`" in md
    assert "registering resource" not in md  # debug diagnostics are noise
    assert summarize({"events": EVENTS}) == md


def test_diff_reasons_and_detailed_diff_are_used_when_present() -> None:
    preview = {"steps": [{
        "op": "update", "urn": urn("prod", "Release", "shop-release"),
        "oldState": state("Release", chart_version="1.0.0"),
        "newState": state("Release", chart_version="1.0.0"),
        "diffReasons": ["values", "kubeconfig"],
        "detailedDiff": {"values.image.tag": {"kind": "update", "inputDiff": True},
                         "crds[0]": {"kind": "add", "inputDiff": True}, "payload": {"kind": "update"}},
    }]}
    assert row(summarize(preview), "shop")[2] == "release — update: `values`"  # crds: not a release trigger


def test_internal_inputs_are_never_reasons() -> None:
    step = ps.Step("release", "update", reasons={"__provider", "kubeconfig", "payload", "project_dir", "spec.timeout"})
    assert ps.why(step) == ["spec.timeout"]
    step.reasons.add("spec.values")  # not a release trigger: the merged `values` input is
    assert ps.why(step) == ["spec.timeout"]


def test_update_without_a_visible_reason_names_a_secret_input() -> None:
    preview = {"steps": [{
        "op": "update", "urn": urn("dev", "Release", "app-release"),
        "oldState": state("Release", chart_version="1.0.0", secret_values="[secret]", kubeconfig="[secret]"),
        "newState": state("Release", chart_version="1.0.0", secret_values="[secret]", kubeconfig="[secret]"),
        "detailedDiff": None,
    }]}
    assert row(summarize(preview), "app")[1:] == ["upgrade 1.0.0 (same chart version)",
                                                   "release — update: `a secret input`"]


@pytest.mark.parametrize("old, new, text", [
    ("2.0.0", "1.5.0", "downgrade 2.0.0 → 1.5.0"),
    ("1.0.0", UNKNOWN, "upgrade 1.0.0 → (known after up)"),
    ("1.0.0", None, "upgrade 1.0.0 → (unknown version)"),
])
def test_release_versions(old: str, new: str | None, text: str) -> None:
    preview = {"steps": [{"op": "update", "urn": urn("dev", "Release", "app-release"),
                          "oldState": state("Release", chart_version=old),
                          "newState": state("Release", chart_version=new)}]}
    assert row(summarize(preview), "app")[1] == text


def test_forced_crd_deletion_and_input_fallback() -> None:
    preview = {"steps": [{"op": "delete", "urn": urn("dev", "CrdCleanup", "op-crds"),
                          "oldState": state("CrdCleanup", crds=["a.example.com"], force_crd_deletion=True)}]}
    md = summarize(preview)
    assert ("- `op`: removed with the chart: `a.example.com`. "
            "force_crd_deletion is set, so their custom resources are deleted too.") in md
    assert row(md, "op")[1] == "no change"  # no release step in this preview


def test_no_crd_warning_when_nothing_is_owned_or_dry_run() -> None:
    steps = [
        {"op": "delete", "urn": urn("dev", "CrdCleanup", "a-crds"),
         "oldState": {**state("CrdCleanup", crds=None), "outputs": {"owned_crds": []}}},
        {"op": "delete", "urn": urn("dev", "CrdCleanup", "b-crds"),
         "oldState": state("CrdCleanup", crds=["x.example.com"], spec={"dry_run": True})},
        {"op": "update", "urn": urn("dev", "CrdCleanup", "c-crds"),
         "oldState": state("CrdCleanup", crds=["y.example.com"]), "newState": state("CrdCleanup", crds=[])},
    ]
    md = summarize({"steps": steps})
    assert "CRDs that will be deleted" not in md
    assert row(md, "c")[2] == "crd_cleanup — update: `crds`"


def test_component_only_and_chart_from_parent() -> None:
    preview = {"steps": [
        {"op": "delete", "urn": urn("dev", None, "gone"),
         "oldState": {"type": "helmlife:index:LifecycleChart"}},
        {"op": "create", "urn": urn("dev", "Validate", "odd-name"),
         "newState": {**state("Validate"), "parent": urn("dev", None, "shop")}},
    ]}
    md = summarize(preview)
    assert row(md, "gone") == ["`gone`", "uninstall", "component only (delete)"]
    assert row(md, "shop") == ["`shop`", "no change", "validate — create"]


def test_other_resources_are_ignored_and_no_changes_is_said() -> None:
    preview = {"steps": [
        {"op": "same", "urn": "urn:pulumi:prod::helmlife::pulumi:pulumi:Stack::helmlife-prod",
         "oldState": {"type": "pulumi:pulumi:Stack"}, "newState": {"type": "pulumi:pulumi:Stack"}},
        {"op": "create", "urn": "urn:pulumi:prod::helmlife::kubernetes:core/v1:Namespace::ns",
         "newState": {"type": "kubernetes:core/v1:Namespace", "inputs": {}}},
    ], "changeSummary": {"same": 19, "create": 1}}
    assert summarize(preview) == ("### Preview of stack `prod`\n\nResources: 1 to create, 19 unchanged.\n\n"
                                  "No chart changes.\n")
    assert summarize({}) == "### Preview\n\nNo chart changes.\n"


def test_errors_and_warnings_are_listed() -> None:
    preview = copy.deepcopy(UPGRADE)
    preview["diagnostics"] = [
        {"urn": urn("dev", "Prerequisites", "demo-operator-prerequisites"),
         "message": "chart 'demo-operator': namespace\n  missing", "severity": "error"},
        {"message": "registering resource", "severity": "debug"},
        {"message": "x" * 400, "severity": "warning"},
    ]
    md = summarize(preview)
    assert "- error `demo-operator-prerequisites`: chart 'demo-operator': namespace missing" in md
    assert "registering resource" not in md
    assert f"- warning: {'x' * 299}…" in md


def test_failed_preview_shows_the_error_once_without_traceback() -> None:
    assert summarize(FAILED) == (
        "### Preview of stack `dev`\n\nResources: 1 unchanged.\n\nNo chart changes.\n\n**Diagnostics:**\n"
        "- error: python inline source runtime error: stack 'dev', chart 'demo-app': namespace: "
        "'Bad_NS' is not a valid namespace\n"
    )


def test_main_reads_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "preview-dev.json"
    f.write_text(json.dumps(UPGRADE, indent=4))
    assert main([str(f)]) == 0
    assert capsys.readouterr().out == summarize(UPGRADE)


def test_main_reads_stdin_and_json_lines(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(json.dumps(e) for e in EVENTS) + "\n"))
    assert main([]) == 0
    assert capsys.readouterr().out == summarize(EVENTS)
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(REPLACE)))
    assert main(["-"]) == 0
    assert capsys.readouterr().out == summarize(REPLACE)


@pytest.mark.parametrize("text, message", [
    ("", "preview-summary: the preview is empty; did `pulumi preview --json` fail before printing anything?"),
    ("{not json", "preview-summary: not JSON from `pulumi preview --json`:"),
])
def test_main_rejects_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    f = tmp_path / "p.json"
    f.write_text(text)
    assert main([str(f)]) == 2
    err = capsys.readouterr()
    assert err.out == "" and err.err.startswith(message)


def test_main_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.json")]) == 2
    assert "No such file" in capsys.readouterr().err
