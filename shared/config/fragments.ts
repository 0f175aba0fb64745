import { Type, type Static } from '@sinclair/typebox';
import { busSecurityIssues } from './bus-security.ts';
import type { CrossCheck } from './validation-issues.ts';

/**
 * Schema fragments every service puts into its own config schema, so the bus, storage, log
 * and metrics keys are spelled and defaulted the same everywhere:
 *
 *   const SchedulerConfig = Type.Object({ bus: BusConfig, storage: StorageConfig, log: LogConfig, ... });
 */

/**
 * How a client proves who it is to the brokers. `plain` sends the password as it is, so it is
 * accepted only together with `tls` (checkBusSecurity). The principal is `User:<username>`.
 */
export const SaslConfig = Type.Object({
  mechanism: Type.Union([Type.Literal('plain'), Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512')]),
  username: Type.String({ minLength: 1 }),
  password: Type.String(),
});
export type SaslConfig = Static<typeof SaslConfig>;

/**
 * TLS to the brokers. Present (and `enabled` not false): every connection is TLS. The files are
 * PEM and are read when the bus is made; absent `caFile`: the system's CAs.
 */
export const TlsConfig = Type.Object({
  /** false turns TLS off while keeping the other keys (e.g. for one environment). */
  enabled: Type.Boolean({ default: true }),
  /** PEM file of the CA(s) that signed the brokers' certificates. */
  caFile: Type.Optional(Type.String({ minLength: 1 })),
  /** PEM client certificate, for brokers with `ssl.client.auth=required` (needs keyFile). */
  certFile: Type.Optional(Type.String({ minLength: 1 })),
  /** PEM private key of certFile (unencrypted). */
  keyFile: Type.Optional(Type.String({ minLength: 1 })),
  /** Name the brokers' certificates must carry, when it is not the host of the broker address. */
  servername: Type.Optional(Type.String({ minLength: 1 })),
});
export type TlsConfig = Static<typeof TlsConfig>;

/** The security keys of `bus:`, the same for every service and the CLI. */
export const BusSecurityProperties = {
  /** Absent: no authentication (the principal is ANONYMOUS, or the client certificate's name). */
  sasl: Type.Optional(SaslConfig),
  /** Absent: plaintext connections. */
  tls: Type.Optional(TlsConfig),
};
export interface BusSecurity {
  sasl?: SaslConfig | undefined;
  tls?: TlsConfig | undefined;
}
const busSecurityCheck: CrossCheck = (value, section) => busSecurityIssues(value, section);

/** Only the security keys of `bus:` (the CLI's `bus` section: its brokers come from --brokers). */
export const BusSecurityConfig = Type.Object(BusSecurityProperties, { crossCheck: busSecurityCheck });

export const BusConfig = Type.Object(
  {
    /** `kafka` for a cluster; `embedded` runs the bus in-process (all-in-one mode, tests). */
    type: Type.Union([Type.Literal('kafka'), Type.Literal('embedded')], { default: 'kafka' }),
    /** `host:port` of the bootstrap brokers; ignored by the embedded bus. */
    brokers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, default: ['127.0.0.1:9092'] }),
    /** Kafka client id; services usually set it to their name and instance. */
    clientId: Type.String({ minLength: 1, default: 'buildfleet' }),
    /** First part of every topic name, so several clusters can share one Kafka. */
    topicPrefix: Type.String({ pattern: '^[A-Za-z0-9._-]+$', default: 'buildfleet' }),
    ...BusSecurityProperties,
    /**
     * Kafka consumer group session timeout: how long a member (a runner, a scheduler) may be silent
     * before the broker gives its partitions to the others. Shorter means a killed runner's queue
     * share moves on sooner; heartbeats go every tenth of it (at most every 3 s).
     * Kafka's brokers accept 6 s to 300 s by default.
     */
    sessionTimeoutMs: Type.Integer({ minimum: 6000, maximum: 300_000, default: 30_000 }),
  },
  { crossCheck: busSecurityCheck },
);
export type BusConfig = Static<typeof BusConfig>;

export const FsStorageConfig = Type.Object({
  type: Type.Literal('fs'),
  /** Directory that holds the artifacts; created when missing. */
  root: Type.String({ minLength: 1 }),
});
export type FsStorageConfig = Static<typeof FsStorageConfig>;

export const S3StorageConfig = Type.Object({
  type: Type.Literal('s3'),
  bucket: Type.String({ minLength: 1 }),
  /** Key prefix inside the bucket, e.g. `prod/`. */
  prefix: Type.String({ default: '' }),
  /** Absent: AWS's own endpoint for the region. Set it for s3proxy, MinIO, Ceph... */
  endpoint: Type.Optional(Type.String({ minLength: 1 })),
  region: Type.String({ minLength: 1, default: 'us-east-1' }),
  /** Absent (with secretAccessKey): the AWS SDK's default credential chain. */
  accessKeyId: Type.Optional(Type.String({ minLength: 1 })),
  secretAccessKey: Type.Optional(Type.String({ minLength: 1 })),
  /** Path-style URLs (`endpoint/bucket/key`); needed by most self-hosted S3 servers. */
  forcePathStyle: Type.Boolean({ default: false }),
});
export type S3StorageConfig = Static<typeof S3StorageConfig>;

export const StorageConfig = Type.Union([FsStorageConfig, S3StorageConfig]);
export type StorageConfig = Static<typeof StorageConfig>;

export const LogConfig = Type.Object({
  level: Type.Union(
    [
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ],
    { default: 'info' },
  ),
});
export type LogConfig = Static<typeof LogConfig>;

export const MetricsConfig = Type.Object({
  /** Serve `/metrics` and `/healthz`; off for one-shot commands. */
  enabled: Type.Boolean({ default: true }),
  host: Type.String({ minLength: 1, default: '127.0.0.1' }),
  /** 0 picks a free port (tests). 9464 is the usual Prometheus exporter port. */
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
});
export type MetricsConfig = Static<typeof MetricsConfig>;
