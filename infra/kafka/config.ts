import { randomBytes } from 'node:crypto';

/** Where one node keeps its files, all under its data directory. */
export interface NodeFiles {
  serverProperties: string;
  log4jProperties: string;
  /** Kafka's log.dirs: the metadata log and topic partitions. */
  logDir: string;
  /** The broker's own log (log4j). */
  brokerLog: string;
  /** The JVM's stdout/stderr: startup failures that happen before log4j is configured. */
  consoleLog: string;
}

export function nodeFiles(dataDir: string): NodeFiles {
  return {
    serverProperties: `${dataDir}/server.properties`,
    log4jProperties: `${dataDir}/log4j.properties`,
    logDir: `${dataDir}/kraft-logs`,
    brokerLog: `${dataDir}/broker.log`,
    consoleLog: `${dataDir}/console.log`,
  };
}

export interface Voter {
  nodeId: number;
  controllerPort: number;
}

/**
 * A secured single node: its client listener is SASL_SSL with SCRAM-SHA-512, an authorizer
 * (StandardAuthorizer) decides every request and a principal without ACLs may do nothing.
 */
export interface BrokerSecurity {
  /**
   * SCRAM-SHA-512 users created when the storage is formatted: name -> password. `admin` is
   * required: it is a super user and the broker's own principal between brokers.
   */
  scramUsers: Readonly<Record<string, string>>;
  /** PEM files of the SASL_SSL listener. */
  tls: {
    /** The broker's unencrypted private key followed by its certificate (chain); the certificate names 127.0.0.1. */
    keystoreFile: string;
    /** The CA that signed it (the broker trusts it for its own connections). */
    caFile: string;
  };
}

export interface NodePropertiesInput {
  nodeId: number;
  port: number;
  controllerPort: number;
  logDir: string;
  /** Every controller of the cluster (a static voter list); one entry for a single node. */
  voters: readonly Voter[];
  /** Absent: a PLAINTEXT client listener, no authorizer. */
  security?: BrokerSecurity | undefined;
}

/**
 * server.properties for a combined broker+controller KRaft node on 127.0.0.1. Replication
 * settings follow the cluster size: a single node cannot replicate, a cluster of three keeps
 * three copies and needs two in sync. Callers' extra properties are applied on top.
 */
export function nodeProperties(input: NodePropertiesInput): Record<string, string> {
  const size = input.voters.length;
  const replication = String(Math.min(size, 3));
  const minInSync = String(size >= 3 ? 2 : 1);
  return {
    'process.roles': 'broker,controller',
    'node.id': String(input.nodeId),
    'controller.quorum.voters': input.voters.map((v) => `${v.nodeId}@127.0.0.1:${v.controllerPort}`).join(','),
    listeners: `PLAINTEXT://127.0.0.1:${input.port},CONTROLLER://127.0.0.1:${input.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${input.port}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': input.logDir,
    // Topics are created explicitly (buildfleet topics ensure, test harness); a typo must fail.
    'auto.create.topics.enable': 'false',
    'num.partitions': '1',
    'default.replication.factor': replication,
    'min.insync.replicas': minInSync,
    'offsets.topic.replication.factor': replication,
    'offsets.topic.num.partitions': '3',
    'transaction.state.log.replication.factor': replication,
    'transaction.state.log.min.isr': minInSync,
    'transaction.state.log.num.partitions': '3',
    // Consumers in tests join at once instead of waiting 3 s for more members.
    'group.initial.rebalance.delay.ms': '0',
    // The default 128 MiB dedupe buffer does not fit a 512 MiB heap next to everything else.
    'log.cleaner.dedupe.buffer.size': String(16 * 1024 * 1024),
    'num.network.threads': '2',
    'num.io.threads': '4',
    // A killed node is fenced (and dropped from every ISR) after 3 s instead of 9 s.
    'broker.heartbeat.interval.ms': '500',
    'broker.session.timeout.ms': '3000',
    'replica.lag.time.max.ms': '5000',
    ...(input.security ? securityProperties(input) : {}),
  };
}

/**
 * The SASL_SSL client listener (also the one between brokers, as `admin`) and the authorizer.
 * The controller listener stays PLAINTEXT on 127.0.0.1; its principal, ANONYMOUS, must be a super
 * user for the broker to talk to its controller (clients reach only the SASL_SSL port).
 */
function securityProperties(input: NodePropertiesInput): Record<string, string> {
  const security = input.security;
  if (security === undefined) return {};
  const adminPassword = security.scramUsers.admin;
  if (adminPassword === undefined) throw new Error('BrokerSecurity.scramUsers needs an admin user');
  const jaasText = (text: string): string => text.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
  return {
    listeners: `SASL_SSL://127.0.0.1:${input.port},CONTROLLER://127.0.0.1:${input.controllerPort}`,
    'advertised.listeners': `SASL_SSL://127.0.0.1:${input.port}`,
    'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'SASL_SSL',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required ' +
      `username="admin" password="${jaasText(adminPassword)}";`,
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': security.tls.keystoreFile,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': security.tls.caFile,
    'ssl.client.auth': 'none',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': 'User:admin;User:ANONYMOUS',
    'allow.everyone.if.no.acl.found': 'false',
  };
}

/** `kafka.tools.StorageTool format` arguments that create the SCRAM users. */
export function scramFormatArgs(security: BrokerSecurity | undefined): string[] {
  if (security === undefined) return [];
  return Object.entries(security.scramUsers).flatMap(([name, password]) => {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || /[,\]"]/.test(password)) {
      throw new Error(`SCRAM user ${name}: names are [A-Za-z0-9._-]+, passwords without , ] or "`);
    }
    return ['--add-scram', `SCRAM-SHA-512=[name=${name},password=${password}]`];
  });
}

/** Java properties text; backslashes and line breaks in values are escaped. */
export function renderProperties(properties: Record<string, string>): string {
  const escape = (text: string): string =>
    text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r');
  return Object.entries(properties)
    .map(([key, value]) => `${escape(key)}=${escape(value)}\n`)
    .join('');
}

/** log4j 1 configuration: everything goes to the broker log file, nothing to stdout. */
export function log4jProperties(brokerLog: string): Record<string, string> {
  return {
    'log4j.rootLogger': 'INFO, file',
    'log4j.appender.file': 'org.apache.log4j.RollingFileAppender',
    'log4j.appender.file.File': brokerLog,
    'log4j.appender.file.MaxFileSize': '20MB',
    'log4j.appender.file.MaxBackupIndex': '2',
    'log4j.appender.file.layout': 'org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern': '[%d] %p %m (%c)%n',
    // Per-request and per-partition state chatter would fill the log in tests.
    'log4j.logger.kafka.request.logger': 'WARN',
    'log4j.logger.state.change.logger': 'WARN',
    'log4j.logger.kafka.log.LogCleaner': 'WARN',
  };
}

/** A new KRaft cluster id: 16 random bytes, base64url without padding (Kafka's Uuid format). */
export function newClusterId(): string {
  // Like Kafka's own Uuid.randomUuid(): an id starting with '-' would be read as an option by
  // the storage tool's argument parser (one start in 64 failed that way).
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The cluster id recorded in a formatted log dir's meta.properties, if any. */
export function clusterIdFromMeta(metaProperties: string): string | undefined {
  const line = metaProperties.split(/\r?\n/).find((l) => l.startsWith('cluster.id='));
  return line?.slice('cluster.id='.length).trim() || undefined;
}
