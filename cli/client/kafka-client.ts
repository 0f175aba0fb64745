/**
 * The ClusterClient on Kafka directly: submissions and cancels are published, build records
 * are asked of the info service (info.query / info.answer), events and log lines are read live
 * from their topics, and logs and artifacts of finished builds come from the artifact store.
 */
import { randomUUID } from 'node:crypto';
import { createBus, type Bus, type BusRecord, type Subscription } from '../../shared/bus/index.ts';
import { BuildfleetError, isErrorCode, toBuildfleetError } from '../../shared/errors/index.ts';
import { createLogger, type LogLevel } from '../../shared/log/index.ts';
import {
  buildSubmit,
  clientSubmitProblem,
  consumerGroupNames,
  controlCancel,
  decodeMessage,
  decoderFor,
  isAttemptFinalState,
  isMessage,
  isTerminalState,
  routeOf,
  topicNames,
  type Artifact,
  type BuildRecord,
  type InfoQuery,
} from '../../shared/messages/index.ts';
import type { ArtifactStore } from '../../shared/storage/index.ts';
import { storeFromConfig } from '../../shared/storage/from-config.ts';
import { eventMatches } from '../format/events.ts';
import type { Connection } from './connection.ts';
import { writeDownload } from './download.ts';
import type { BuildQuery, ClusterClient, EventFilter, LogOptions, SubmitRequest, Watching } from './port.ts';
import { NO_STORE_HINT, storageConfigOf } from './store-choice.ts';

export interface KafkaClusterClientOptions {
  connection: Extract<Connection, { kind: 'kafka' }>;
  /** Level of the client's own log lines (stderr). */
  logLevel: LogLevel;
  /** How long to wait for the info service to answer a query. @default 10000 */
  infoTimeoutMs?: number;
  /** After a build's end event, how long `logs -f` still waits for its last log chunk. @default 3000 */
  finalChunkGraceMs?: number;
}

export function createKafkaClusterClient(options: KafkaClusterClientOptions): ClusterClient {
  const { connection } = options;
  const logger = createLogger({ name: 'buildfleet-cli', level: options.logLevel, destination: process.stderr });
  const bus: Bus = createBus(
    {
      type: 'kafka',
      brokers: connection.brokers,
      clientId: 'buildfleet-cli',
      topicPrefix: connection.topicPrefix,
      sessionTimeoutMs: 30_000,
      ...connection.security,
    },
    logger,
    { kafka: { retries: 2 } },
  );
  const topics = topicNames(connection.topicPrefix);
  const infoTimeoutMs = options.infoTimeoutMs ?? 10_000;
  const graceMs = options.finalChunkGraceMs ?? 3000;
  let store: Promise<ArtifactStore> | undefined;
  const where = `kafka ${connection.brokers.join(',')} (prefix ${connection.topicPrefix})`;

  function openStore(what: string): Promise<ArtifactStore> {
    store ??= (async () => {
      const config = await storageConfigOf(connection.store);
      if (config === undefined) {
        throw new BuildfleetError(
          'usage',
          `over Kafka, ${what} of a build come from the artifact store: ${NO_STORE_HINT}`,
        );
      }
      return storeFromConfig(config);
    })();
    // A failure is reported to every caller; a later call tries again.
    store.catch(() => (store = undefined));
    return store;
  }

  async function ask(question: BuildQuery, signal?: AbortSignal): Promise<BuildRecord[]> {
    const queryId = randomUUID();
    const query: InfoQuery = {
      v: 1,
      type: 'info.query',
      queryId,
      replyTo: bus.instanceId,
      at: new Date().toISOString(),
      ...question,
    };
    const { topic, record } = routeOf(topics, decodeMessage('info.query', query));
    try {
      const answer = await bus.request({
        topic,
        replyTopic: topics.infoResponses,
        ...record,
        decode: decoderFor('info.answer'),
        timeoutMs: infoTimeoutMs,
        ...(signal ? { signal } : {}),
      });
      if (answer.error) {
        if (answer.error.code === 'build-unknown' || answer.error.code === 'not-found') return [];
        const code = isErrorCode(answer.error.code) ? answer.error.code : 'internal';
        throw new BuildfleetError(code, `info service: ${answer.error.message}`);
      }
      return answer.builds;
    } catch (error) {
      if (error instanceof BuildfleetError && error.code === 'bus-timeout') {
        throw new BuildfleetError(
          'bus-timeout',
          `no info service answered on ${topics.infoRequests} within ${infoTimeoutMs / 1000} s (is one running for prefix ${connection.topicPrefix}?)`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async function recordOf(buildId: string, signal?: AbortSignal): Promise<BuildRecord> {
    const [record] = await ask({ buildId }, signal);
    if (!record) throw new BuildfleetError('build-unknown', `build ${buildId} is unknown`, { context: { buildId } });
    return record;
  }

  /** A private subscription delivering raw values: a read-only client never dead-letters what it cannot read. */
  async function listen(
    name: string,
    topicList: string[],
    handle: (record: BusRecord<unknown>) => void,
  ): Promise<Subscription> {
    const subscription = await bus.subscribe<unknown>({
      name: consumerGroupNames(connection.topicPrefix).cli(name),
      topics: topicList,
      start: 'now',
      decode: (value) => value,
      handlerAttempts: 1,
      handle: async (record) => handle(record),
    });
    await subscription.ready;
    return subscription;
  }

  async function storedLog(record: BuildRecord, onText: (text: string) => void, signal?: AbortSignal): Promise<void> {
    if (record.logKey === undefined) {
      if (!isAttemptFinalState(record.state) && !isTerminalState(record.state)) {
        throw new BuildfleetError(
          'artifact-missing',
          `build ${record.buildId} is ${record.state}: its log is stored when it ends; follow it with -f`,
        );
      }
      throw new BuildfleetError('artifact-missing', `build ${record.buildId} (${record.state}) has no stored log`);
    }
    const opened = await openStore('logs');
    onText((await opened.get(record.logKey, signal ? { signal } : {})).toString('utf8'));
  }

  async function followLog(
    buildId: string,
    onText: (text: string) => void,
    onLive: (() => void) | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    let printed = false;
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    let grace: NodeJS.Timeout | undefined;
    const subscription = await listen('logs', [topics.logs, topics.events], (record) => {
      const value = record.value;
      if (record.topic === topics.logs && isMessage('log.chunk', value) && value.buildId === buildId) {
        if (value.lines.length > 0) onText(value.lines.map((line) => `${line}\n`).join(''));
        printed = true;
        if (value.final === true) finish();
      } else if (
        record.topic === topics.events &&
        isMessage('build.event', value) &&
        value.buildId === buildId &&
        isTerminalState(value.state)
      ) {
        // The runner may have died without a last chunk: the end event closes the log after a grace.
        grace ??= setTimeout(finish, graceMs);
      }
    });
    const onAbort = (): void => finish();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) finish();
    try {
      const record = await recordOf(buildId, signal);
      if (!printed && (isAttemptFinalState(record.state) || isTerminalState(record.state))) {
        // It ended before we listened: its whole log is in the store.
        await storedLog(record, onText, signal);
        return;
      }
      onLive?.();
      await finished;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(grace);
      await subscription.close();
    }
  }

  async function artifactsOf(buildId: string, signal?: AbortSignal): Promise<Artifact[]> {
    return (await recordOf(buildId, signal)).artifacts;
  }

  return {
    describe: () => where,

    async submit(request: SubmitRequest, signal?: AbortSignal) {
      const submitId = request.submitId ?? randomUUID();
      // Checked here: a bad project or target is the caller's error, not a dead letter.
      const message = decodeMessage(
        'build.submit',
        buildSubmit({
          submitId,
          project: request.project,
          targets: request.targets?.length ? request.targets : undefined,
          ref: request.ref || undefined,
          reason: 'manual',
          requestedBy: request.requestedBy || undefined,
          ignoreDeps: request.ignoreDeps ? true : undefined,
          scope: request.scope,
          dist: request.dist || undefined,
        }),
      );
      // What the HTTP API refuses from clients is refused here too (change: ids, over-long ids).
      const problem = clientSubmitProblem(message);
      if (problem !== undefined) {
        throw new BuildfleetError('message-invalid', `build.submit: field "${problem.field}" ${problem.reason}`, {
          context: { field: problem.field },
        });
      }
      const { topic, record } = routeOf(topics, message);
      await bus.publish(topic, record, signal);
      return { submitId };
    },

    builds: ask,

    async watch(filter: EventFilter, onEvent, signal: AbortSignal): Promise<Watching> {
      let failure: unknown;
      const stopped = new AbortController();
      const subscription = await listen('watch', [topics.events], (record) => {
        if (!isMessage('build.event', record.value) || !eventMatches(filter, record.value)) return;
        try {
          onEvent(record.value);
        } catch (error) {
          failure ??= error;
          stopped.abort();
        }
      });
      const ended = new Promise<void>((resolve, reject) => {
        const stop = (): void => {
          subscription
            .close()
            .then(() => (failure === undefined ? resolve() : reject(toBuildfleetError(failure))), reject);
        };
        if (signal.aborted) stop();
        else {
          signal.addEventListener('abort', stop, { once: true });
          stopped.signal.addEventListener('abort', stop, { once: true });
        }
      });
      return { ended };
    },

    async logs(buildId: string, logOptions: LogOptions, onText: (text: string) => void, signal?: AbortSignal) {
      if (logOptions.follow) return followLog(buildId, onText, logOptions.onLive, signal);
      return storedLog(await recordOf(buildId, signal), onText, signal);
    },

    async cancel(buildId: string, reason: string, signal?: AbortSignal) {
      const { topic, record } = routeOf(topics, decodeMessage('control.cancel', controlCancel({ buildId, reason })));
      await bus.publish(topic, record, signal);
    },

    artifacts: artifactsOf,

    async download(buildId: string, name: string, destFile: string, signal?: AbortSignal) {
      const artifact = (await artifactsOf(buildId, signal)).find((a) => a.name === name);
      if (!artifact) {
        throw new BuildfleetError('artifact-missing', `build ${buildId} has no artifact ${name}`, {
          context: { buildId, name },
        });
      }
      const opened = await openStore('artifacts');
      return writeDownload(await opened.getStream(artifact.key, signal ? { signal } : {}), destFile, signal);
    },

    async repos() {
      throw new BuildfleetError(
        'usage',
        'over Kafka the repositories are listed from the store: use `buildfleet repos --config <collector config>`, ' +
          'or the HTTP API with --api <url>',
      );
    },

    async close() {
      const opened = store;
      await bus.close();
      if (opened) await (await opened.catch(() => undefined))?.close();
    },
  };
}
