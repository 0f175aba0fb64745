/**
 * How a client command reaches the cluster — the one place that decides it:
 *   --api <url>  >  --brokers <list>  >  BUILDFLEET_API  >  BUILDFLEET_BROKERS  >  http://127.0.0.1:8080
 * (the default is what `buildfleet up` serves). Over Kafka, logs and artifacts of finished builds
 * are read from an artifact store: --store <dir | config file>, else the BUILDFLEET_STORAGE_*
 * variables (the same keys as a service's `storage:` section). Kafka security is the services'
 * `bus.sasl` / `bus.tls` keys, so the variables are the same: BUILDFLEET_BUS_SASL_MECHANISM,
 * BUILDFLEET_BUS_SASL_USERNAME, BUILDFLEET_BUS_SASL_PASSWORD, BUILDFLEET_BUS_TLS_CA_FILE, ...
 */
import { Type, type Static } from '@sinclair/typebox';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { BusSecurityConfig, LogConfig, StorageConfig, loadConfig } from '../../shared/config/index.ts';
import { DEFAULT_TOPIC_PREFIX } from '../../shared/messages/index.ts';
import type { Connection, StoreSource } from './connection.ts';
import type { ClusterClient } from './port.ts';

/** What `buildfleet up` serves. */
export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** The client's settings from the environment (BUILDFLEET_API, BUILDFLEET_BROKERS, BUILDFLEET_STORAGE_*, ...). */
export const ClientConfig = Type.Object({
  /** Base URL of the info service's HTTP API. */
  api: Type.Optional(Type.String({ minLength: 1 })),
  /** Bearer token for the HTTP API (BUILDFLEET_TOKEN); else the one saved for the API in credentialsFile. */
  token: Type.Optional(Type.String({ minLength: 1 })),
  /** Where `buildfleet up` saves its admin token (credentials.ts). @default $XDG_CONFIG_HOME/buildfleet/credentials.json */
  credentialsFile: Type.Optional(Type.String({ minLength: 1 })),
  /** Kafka bootstrap brokers (`host:port`, comma-separated in the environment). */
  brokers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  /** First part of every topic name. */
  topicPrefix: Type.String({ pattern: '^[A-Za-z0-9._-]+$', default: DEFAULT_TOPIC_PREFIX }),
  /** Kafka security: the `sasl` and `tls` keys of a service's `bus:` section (same variables). */
  bus: BusSecurityConfig,
  /** The artifact store, for logs and artifacts of finished builds over Kafka. */
  storage: Type.Optional(StorageConfig),
  log: LogConfig,
});
export type ClientConfig = Static<typeof ClientConfig>;

/** The connection options every client command takes. */
export interface ConnectionFlags {
  /** Base URL of the HTTP API; wins over everything else. */
  api?: string;
  /** Comma-separated Kafka bootstrap brokers. */
  brokers?: string;
  /** Topic prefix over Kafka. @default BUILDFLEET_TOPIC_PREFIX, else 'buildfleet' */
  topicPrefix?: string;
  /** Artifact store over Kafka: a directory, or a YAML/JSON file with a `storage:` section. */
  store?: string;
}

/** The connection rule of the module comment, as a pure function of the flags and the environment's settings. */
export function chooseConnection(flags: ConnectionFlags, env: ClientConfig): Connection {
  if (flags.api !== undefined) return { kind: 'http', url: apiUrl(flags.api, '--api'), from: 'flag' };
  const store: StoreSource =
    flags.store !== undefined
      ? { kind: 'flag', value: flags.store }
      : env.storage
        ? { kind: 'env', config: env.storage }
        : { kind: 'none' };
  const kafka = (brokers: string[], from: 'flag' | 'env'): Connection => ({
    kind: 'kafka',
    brokers,
    topicPrefix: flags.topicPrefix ?? env.topicPrefix,
    security: env.bus,
    store,
    from,
  });
  if (flags.brokers !== undefined) return kafka(brokerList(flags.brokers), 'flag');
  if (env.api !== undefined) return { kind: 'http', url: apiUrl(env.api, 'BUILDFLEET_API'), from: 'env' };
  if (env.brokers !== undefined) return kafka(env.brokers, 'env');
  return { kind: 'http', url: DEFAULT_API_URL, from: 'default' };
}

/** The client's settings from the environment (the one place the client reads it), validated. */
export function loadClientConfig(): ClientConfig {
  // A command line tool prints outcomes itself; client chatter only with BUILDFLEET_LOG_LEVEL.
  return loadConfig(ClientConfig, { defaults: { log: { level: 'fatal' } } });
}

/** Opens the client the flags and the environment choose. */
export async function connectClient(flags: ConnectionFlags): Promise<ClusterClient> {
  const env = loadClientConfig();
  const connection = chooseConnection(flags, env);
  if (connection.kind === 'http') {
    const [{ createHttpClient }, { tokenFor }] = await Promise.all([
      import('./http-client.ts'),
      import('./credentials.ts'),
    ]);
    const token = await tokenFor(env, connection.url);
    return createHttpClient({ url: connection.url, ...(token === undefined ? {} : { token }) });
  }
  const { createKafkaClusterClient } = await import('./kafka-client.ts');
  return createKafkaClusterClient({ connection, logLevel: env.log.level });
}

/** `http://host:8080/` -> `http://host:8080`; anything but an http(s) URL is a usage error naming `source`. */
export function apiUrl(value: string, source = '--api'): string {
  const problem = new BuildfleetError(
    'usage',
    `${source} must be an http(s) URL such as ${DEFAULT_API_URL} (got "${value}")`,
  );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw problem;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw problem;
  return url.href.replace(/\/+$/, '');
}

/** `a:9092, b:9092` -> ['a:9092', 'b:9092']; empty items are dropped. */
export function brokerList(value: string): string[] {
  const brokers = value
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
  if (brokers.length === 0) throw new BuildfleetError('usage', '--brokers needs at least one host:port');
  return brokers;
}
