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

export interface ConsumerGroupNames {
  /** Shared queue of `<prefix>.submit`. */
  scheduler: string;
  /** Shared queue of `<prefix>.info.requests`. */
  info: string;
  /** `<prefix>.runner.<runnerGroup>.<arch>`: shared queue of that request topic. */
  runner(runnerGroup: string, arch: string): string;
}

/** The shared-queue groups the design names. Pub/sub readers pick their own group per instance. */
export function consumerGroupNames(prefix: string = DEFAULT_TOPIC_PREFIX): ConsumerGroupNames {
  checkPrefix(prefix);
  return {
    scheduler: `${prefix}.scheduler`,
    info: `${prefix}.info`,
    runner: (runnerGroup, arch) => `${prefix}.runner.${segment(runnerGroup)}.${segment(arch)}`,
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
