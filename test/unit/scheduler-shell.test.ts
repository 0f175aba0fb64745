/**
 * The scheduler's I/O shell on the embedded bus: reading the sources is slow work done outside
 * the input queue, so records of the other subscriptions and the timer's ticks go on meanwhile.
 * The resolver is a stand-in that holds a submission until the test lets it go (a slow git
 * fetch on demand); everything else is the real scheduler, bus and state store.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { SubmitResolver } from '../../scheduler/resolve.ts';
import { createScheduler, type Scheduler } from '../../scheduler/scheduler.ts';
import { createStateStore } from '../../scheduler/state/state-store.ts';
import { createEmbeddedBus } from '../../shared/bus/embedded/bus.ts';
import type { Bus, Subscription } from '../../shared/bus/index.ts';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { createLogger } from '../../shared/log/index.ts';
import { testTopics } from '../harness/cluster-fixtures.ts';
import {
  buildSubmit,
  consumerGroupNames,
  controlCancel,
  decoderFor,
  topicNames,
  type BuildEvent,
} from '../../shared/messages/index.ts';

const PREFIX = 'shelltest';
const topics = topicNames(PREFIX);
const TARGET = { dist: 'bookworm', arch: 'x86_64' };

async function until<T>(what: string, find: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('the scheduler shell (embedded bus)', () => {
  const logger = createLogger({ name: 'scheduler-shell-test', level: 'silent' });
  let bus: Bus;
  let scheduler: Scheduler;
  let watch: Subscription;
  const events: BuildEvent[] = [];
  /** Lets the held submission's sources be read. */
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let heldSignal: AbortSignal | undefined;
  let neverSignal: AbortSignal | undefined;

  const resolver: SubmitResolver = {
    async resolve(submit, signal) {
      if (submit.project === 'projects/never') {
        neverSignal = signal;
        await new Promise((_, reject) =>
          signal?.addEventListener('abort', () => reject(new BuildfleetError('aborted', 'stopped')), { once: true }),
        );
      }
      if (submit.project === 'projects/slow') {
        heldSignal = signal;
        await Promise.race([
          held,
          new Promise((_, reject) =>
            signal?.addEventListener('abort', () => reject(new BuildfleetError('aborted', 'stopped')), { once: true }),
          ),
        ]);
      }
      return {
        commit: 'c'.repeat(40),
        sourceUrl: 'file:///srv/sources',
        targets: [{ target: TARGET, kind: 'noop', runnerGroup: 'default' }],
      };
    },
    cascade: () => Promise.reject(new BuildfleetError('config-invalid', 'no cascades here')),
  };

  const stateOf = (project: string, state: string): BuildEvent | undefined =>
    events.find((e) => e.project === project && e.state === state);

  before(async () => {
    bus = createEmbeddedBus({ topicPrefix: PREFIX, logger });
    await bus.ensureTopics(testTopics(PREFIX));
    watch = await bus.subscribe<BuildEvent>({
      name: 'watch',
      topics: [topics.events],
      decode: decoderFor('build.event'),
      start: 'earliest',
      handle: (record) => {
        events.push(record.value);
        return Promise.resolve();
      },
    });
    scheduler = createScheduler({
      instanceId: 'scheduler-1',
      bus,
      state: createStateStore({ bus, topic: topics.state, logger }),
      resolver,
      logger,
      checkIntervalMs: 20,
    });
    await scheduler.start();
  });

  after(async () => {
    release();
    await scheduler.stop();
    await watch.close();
    await bus.close();
  });

  it('handles cancels and ticks while a submission waits for its sources, and that submission after', async () => {
    const submit = (submitId: string, project: string) =>
      bus.publish(topics.submit, { key: project, value: buildSubmit({ submitId, project }) });
    await submit('s-a', 'projects/a');
    await submit('s-b', 'projects/b');
    // No runner: both wait for one.
    await until('projects/b waiting', () => stateOf('projects/b', 'waiting'));
    const a = await until('projects/a waiting', () => stateOf('projects/a', 'waiting'));

    await submit('s-slow', 'projects/slow');
    await until('the slow submission to be read', () => heldSignal);

    // A cancel (the control subscription) and a runner coming (seen by a tick) are handled now.
    await bus.publish(topics.control, {
      key: a.buildId,
      value: controlCancel({ buildId: a.buildId, reason: 'not wanted' }),
    });
    await until('projects/a cancelled', () => stateOf('projects/a', 'cancelled'));
    const runner = await bus.consume({
      topics: [topics.requests('default', 'x86_64')],
      group: consumerGroupNames(PREFIX).runner('default', 'x86_64'),
      decode: (value) => value,
      handle: () => Promise.resolve(),
    });
    try {
      const queued = await until('projects/b queued', () => stateOf('projects/b', 'queued'));
      assert.match(queued.reason ?? '', /a runner of default\.x86_64 is there/);
      assert.equal(stateOf('projects/slow', 'submitted'), undefined, 'the slow submission is not handled yet');

      release();
      await until('projects/slow submitted', () => stateOf('projects/slow', 'submitted'));
      await until('projects/slow queued', () => stateOf('projects/slow', 'queued'));
    } finally {
      await runner.close();
    }
  });

  it('stops while a submission waits for its sources: the reading is aborted and the submission left unhandled', async () => {
    await bus.publish(topics.submit, {
      key: 'projects/never',
      value: buildSubmit({ submitId: 's-never', project: 'projects/never' }),
    });
    const signal = await until('the never-ending submission to be read', () => neverSignal);
    const started = Date.now();
    await scheduler.stop();
    assert.ok(signal.aborted, 'the reading of the sources was aborted');
    assert.ok(Date.now() - started < 5000, 'stop did not wait for the sources');
    assert.equal(stateOf('projects/never', 'submitted'), undefined);
  });
});
