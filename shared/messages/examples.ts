/**
 * Valid example messages of every type, with every optional field used somewhere: they show
 * producers what a message looks like and give tests (here and of the bus) real messages.
 */
import type { MessageOf, MessageType } from './registry.ts';

const at = '2025-03-01T12:00:00.000Z';
const commit = '3f786850e387550fdab836ed7e6dc881de23001b';
const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const buildId = '8d9a3c1e-2b4f-4e6a-9c7d-1f2e3a4b5c6d';
const target = { dist: 'bookworm', arch: 'x86_64' };
const buildKey = 'projects/demo/hello-deb@bookworm.x86_64';
const repoKey = 'projects/demo/bookworm';
const artifact = {
  name: 'hello_1.0-1_amd64.deb',
  kind: 'deb',
  size: 2048,
  sha256,
  key: `builds/${buildId}/1/hello_1.0-1_amd64.deb`,
} as const;
const eventBase = {
  v: 1,
  type: 'build.event',
  buildId,
  attempt: 1,
  buildKey,
  project: 'projects/demo/hello-deb',
  target,
  repoKey,
  at,
} as const;

export const messageExamples: { readonly [T in MessageType]: readonly MessageOf<T>[] } = {
  'build.submit': [
    { v: 1, type: 'build.submit', submitId: 'cli-1', project: 'projects/demo/hello-deb' },
    {
      v: 1,
      type: 'build.submit',
      submitId: 'push-3f78-hello',
      project: 'projects/demo/hello-deb',
      targets: [target, { dist: 'bookworm', arch: 'aarch64' }],
      ref: 'main',
      reason: 'source-change',
      requestedBy: 'git-watcher',
      at,
    },
  ],
  'build.request': [
    {
      v: 1,
      type: 'build.request',
      buildId,
      attempt: 2,
      buildKey,
      project: 'projects/demo/hello-deb',
      kind: 'deb',
      target,
      runnerGroup: 'default',
      source: { url: 'https://git.example.org/sources.git', commit },
      submitId: 'cli-1',
      leaseMs: 30_000,
      at,
    },
  ],
  'build.event': [
    { ...eventBase, state: 'queued', source: { service: 'scheduler', instance: 'sched-1' }, submitId: 'cli-1', commit },
    {
      ...eventBase,
      state: 'heartbeat',
      source: { service: 'runner', instance: 'runner-a' },
      runnerId: 'runner-a',
      leaseMs: 30_000,
    },
    {
      ...eventBase,
      state: 'succeeded',
      source: { service: 'runner', instance: 'runner-a' },
      runnerId: 'runner-a',
      artifacts: [artifact],
      logKey: `builds/${buildId}/1/build.log`,
      durations: { checkout: 120, buildroot: 900, build: 4200, upload: 80 },
    },
    {
      ...eventBase,
      state: 'published',
      source: { service: 'collector', instance: 'collector-1' },
      repo: { url: 'https://repos.example.org/projects/demo/bookworm', version: '20250301T120005Z' },
    },
    {
      ...eventBase,
      state: 'failed',
      source: { service: 'runner', instance: 'runner-a' },
      error: { code: 'build-failed', message: 'dpkg-buildpackage exited with 2' },
    },
  ],
  'info.query': [
    { v: 1, type: 'info.query', queryId: 'q-1', replyTo: 'cli-77', buildId },
    { v: 1, type: 'info.query', queryId: 'q-2', replyTo: 'cli-77', project: 'projects/demo/hello-deb', target, at },
    {
      v: 1,
      type: 'info.query',
      queryId: 'q-3',
      replyTo: 'cli-77',
      list: {
        projectPrefix: 'projects/demo/',
        states: ['failed', 'timed-out'],
        dist: 'bookworm',
        arch: 'x86_64',
        since: at,
        limit: 50,
      },
    },
  ],
  'info.answer': [
    { v: 1, type: 'info.answer', queryId: 'q-1', replyTo: 'cli-77', at, builds: [] },
    {
      v: 1,
      type: 'info.answer',
      queryId: 'q-2',
      replyTo: 'cli-77',
      at,
      truncated: false,
      source: { service: 'info-service', instance: 'info-1' },
      error: { code: 'internal', message: 'partial view: still replaying events' },
      builds: [
        {
          buildId,
          buildKey,
          project: 'projects/demo/hello-deb',
          target,
          repoKey,
          state: 'published',
          attempt: 1,
          runnerId: 'runner-a',
          submitId: 'cli-1',
          commit,
          history: [
            { state: 'queued', at, attempt: 1 },
            { state: 'claimed', at, attempt: 1, runnerId: 'runner-a' },
          ],
          artifacts: [artifact],
          logKey: `builds/${buildId}/1/build.log`,
          durations: { build: 4200 },
          error: { code: 'upload-failed', message: 'first upload attempt timed out' },
          repo: { url: 'https://repos.example.org/projects/demo/bookworm', version: '20250301T120005Z' },
          createdAt: at,
          updatedAt: '2025-03-01T12:05:00+01:00',
        },
      ],
    },
  ],
  'control.cancel': [
    { v: 1, type: 'control.cancel', buildId, reason: 'cancelled by alice' },
    { v: 1, type: 'control.cancel', buildId, reason: '', at },
  ],
  'log.chunk': [
    { v: 1, type: 'log.chunk', buildId, attempt: 1, seq: 0, lines: ['dpkg-buildpackage -us -uc', ''], at },
    { v: 1, type: 'log.chunk', buildId, attempt: 1, seq: 7, lines: [], at, final: true },
  ],
  deadletter: [
    {
      v: 1,
      type: 'deadletter',
      reason: 'build.submit: field "submitId" is required',
      sourceTopic: 'buildfleet.submit',
      partition: 0,
      offset: '42',
      key: 'projects/demo/hello-deb',
      payload: '{"v":1,"type":"build.submit","project":"projects/demo/hello-deb"}',
      group: 'buildfleet.scheduler',
      at,
    },
    {
      v: 1,
      type: 'deadletter',
      reason: 'not valid JSON',
      sourceTopic: 'buildfleet.events',
      partition: 3,
      offset: '0',
      key: null,
      payload: '/w==',
      payloadEncoding: 'base64',
      group: 'buildfleet.collector',
      at,
    },
  ],
};
