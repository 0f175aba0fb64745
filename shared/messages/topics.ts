/** Kafka topic and consumer group names (DESIGN.md §2), for a configurable prefix. */
import { BuildfleetError } from '../errors/index.ts';

export const DEFAULT_TOPIC_PREFIX = 'buildfleet';

/** Kafka's legal topic characters; the prefix may itself hold dots (`acme.buildfleet`). */
const PREFIX_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/** Runner groups and arches are one topic-name segment each: no dots. */
const SEGMENT_PATTERN = /^[A-Za-z0-9_-]+$/;
const MAX_TOPIC_LENGTH = 249;

export interface TopicNames {
  submit: string;
  events: string;
  logs: string;
  control: string;
  infoRequests: string;
  infoResponses: string;
  state: string;
  deadletter: string;
  /** `<prefix>.requests.<runnerGroup>.<arch>` */
  requests(runnerGroup: string, arch: string): string;
}

export function topicNames(prefix: string = DEFAULT_TOPIC_PREFIX): TopicNames {
  checkPrefix(prefix);
  return {
    submit: `${prefix}.submit`,
    events: `${prefix}.events`,
    logs: `${prefix}.logs`,
    control: `${prefix}.control`,
    infoRequests: `${prefix}.info.requests`,
    infoResponses: `${prefix}.info.responses`,
    state: `${prefix}.state`,
    deadletter: `${prefix}.deadletter`,
    requests: (runnerGroup, arch) => checkedName(`${prefix}.requests.${segment(runnerGroup)}.${segment(arch)}`),
  };
}

/**
 * Every consumer group of buildfleet, in one place: the shared queues the design names, and
 * the private groups of pub/sub readers (`subscribe` adds a unique suffix to those names).
 * Committed offsets live under these names: renaming one makes its readers start over.
 */
export interface ConsumerGroupNames {
  /** Shared queue of `<prefix>.submit`. */
  scheduler: string;
  /** The scheduler's queue of `<prefix>.events` (`<prefix>.scheduler.events`). */
  schedulerEvents: string;
  /** The scheduler's queue of `<prefix>.control` (`<prefix>.scheduler.control`). */
  schedulerControl: string;
  /** Shared queue of `<prefix>.events` for the collectors: one member owns each repository. */
  collector: string;
  /** Shared queue of `<prefix>.info.requests`. */
  info: string;
  /** `<prefix>.runner.<runnerGroup>.<arch>`: shared queue of that request topic. */
  runner(runnerGroup: string, arch: string): string;
  /** Private reader of `<prefix>.control` for one runner: `<prefix>.runner.<runnerGroup>.control.<runnerId>`. */
  runnerControl(runnerGroup: string, runnerId: string): string;
  /** Private reader of `<prefix>.events` for one info-service instance (its view). */
  infoEvents(instanceId: string): string;
  /** Private reader of `<prefix>.logs` for one info-service instance (live logs). */
  infoLogs(instanceId: string): string;
  /** Private reader of the CLI: `<prefix>.cli.<purpose>` (`watch`, `logs`). */
  cli(purpose: string): string;
  /** Base of the throw-away groups that read a topic from its start (`<prefix>.read-all.<uuid>`). */
  readAll: string;
}

export function consumerGroupNames(prefix: string = DEFAULT_TOPIC_PREFIX): ConsumerGroupNames {
  checkPrefix(prefix);
  const runner = (runnerGroup: string, arch: string): string =>
    `${prefix}.runner.${segment(runnerGroup)}.${segment(arch)}`;
  return {
    scheduler: `${prefix}.scheduler`,
    schedulerEvents: `${prefix}.scheduler.events`,
    schedulerControl: `${prefix}.scheduler.control`,
    collector: `${prefix}.collector`,
    info: `${prefix}.info`,
    runner,
    runnerControl: (runnerGroup, runnerId) => `${runner(runnerGroup, 'control')}.${runnerId}`,
    infoEvents: (instanceId) => `${prefix}.info-service.${instanceId}`,
    infoLogs: (instanceId) => `${prefix}.info-service.logs.${instanceId}`,
    cli: (purpose) => `${prefix}.cli.${purpose}`,
    readAll: `${prefix}.read-all`,
  };
}

function checkPrefix(prefix: string): void {
  // The longest fixed suffix is `.info.responses`; request topics are checked when named.
  if (!PREFIX_PATTERN.test(prefix) || prefix.length + '.info.responses'.length > MAX_TOPIC_LENGTH) {
    throw new BuildfleetError(
      'key-invalid',
      `topic prefix "${prefix}" must be dot-separated words of [A-Za-z0-9_-] (Kafka topic characters)`,
      { context: { value: prefix } },
    );
  }
}

function segment(value: string): string {
  if (!SEGMENT_PATTERN.test(value)) {
    throw new BuildfleetError(
      'key-invalid',
      `"${value}" must be one word of [A-Za-z0-9_-] to be part of a topic name`,
      {
        context: { value },
      },
    );
  }
  return value;
}

function checkedName(topic: string): string {
  if (topic.length > MAX_TOPIC_LENGTH) {
    throw new BuildfleetError('key-invalid', `topic name "${topic}" is longer than ${MAX_TOPIC_LENGTH} characters`, {
      context: { value: topic },
    });
  }
  return topic;
}
