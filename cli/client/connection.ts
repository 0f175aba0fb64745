/**
 * What connect.ts chose: the HTTP API, or Kafka with an artifact store. A module of its own so that
 * the Kafka client and the store choice read these types without importing connect.ts, which
 * loads them.
 */
import type { BusSecurity, StorageConfig } from '../../shared/config/index.ts';

/** Where the artifact store comes from, before it is opened. */
export type StoreSource = { kind: 'flag'; value: string } | { kind: 'env'; config: StorageConfig } | { kind: 'none' };

export type Connection =
  | { kind: 'http'; url: string; from: 'flag' | 'env' | 'default' }
  | {
      kind: 'kafka';
      brokers: string[];
      topicPrefix: string;
      /** `bus.sasl` and `bus.tls`, as a service's config has them. */
      security: BusSecurity;
      store: StoreSource;
      from: 'flag' | 'env';
    };
