/**
 * The one translation of kafkajs failures into BuildfleetErrors a reader can act on: a refused
 * principal, a missing ACL, a failed TLS handshake or a broker that is not there, each naming
 * the broker and the principal. kafkajs wraps the cause (retries exceeded -> cause,
 * originalError), so the whole chain is looked at.
 */
import { tlsEnabled } from '../../config/bus-security.ts';
import type { BusSecurity } from '../../config/fragments.ts';
import { BuildfleetError } from '../../errors/index.ts';

/** Who talks to which brokers: the bus's own settings. */
export interface BusIdentity {
  brokers: readonly string[];
  security: BusSecurity;
}

/** What was being done, for the message: `write topic T`, `read topic T`, `use consumer group G`... */
export interface BusOperation {
  /** The access an authorisation failure denies. */
  access: 'read' | 'write' | 'describe' | 'create' | 'alter' | 'delete' | 'connect';
  topic?: string | undefined;
  group?: string | undefined;
  /** Nothing has worked on this bus yet: a closed connection then is probably a refusal (below). */
  firstContact?: boolean;
}

interface ChainFacts {
  names: Set<string>;
  types: Set<string>;
  codes: Set<string>;
  broker: string | undefined;
  messages: string[];
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** The name the brokers know the client by, quoted, for messages. */
export function principalOf(security: BusSecurity): string {
  if (security.sasl) return `'${security.sasl.username}'`;
  if (tlsEnabled(security) && security.tls?.certFile !== undefined)
    return `of the certificate ${security.tls.certFile}`;
  return 'ANONYMOUS';
}

/** A kafkajs failure (or anything thrown by it) as a BuildfleetError; a BuildfleetError is kept. */
export function translateKafkaError(error: unknown, identity: BusIdentity, operation: BusOperation): BuildfleetError {
  if (error instanceof BuildfleetError) return error;
  const facts = chainFacts(error);
  const broker = facts.broker ?? identity.brokers.join(',');
  const principal = principalOf(identity.security);
  const sasl = identity.security.sasl;
  const detail = facts.messages[facts.messages.length - 1] ?? String(error);
  const context = { broker, principal, ...pick(operation) };
  const make = (code: ConstructorParameters<typeof BuildfleetError>[0], message: string): BuildfleetError =>
    new BuildfleetError(code, message, { cause: error, context });

  const denied = deniedResource(facts.types, operation);
  if (denied !== undefined) {
    return make(
      'bus-not-authorised',
      `principal ${principal} may not ${denied} (broker ${broker}; its ACLs do not allow it: buildfleet acls apply)`,
    );
  }
  const mechanism = sasl ? sasl.mechanism.toUpperCase() : 'SASL';
  if (facts.types.has('UNSUPPORTED_SASL_MECHANISM')) {
    return make(
      'bus-auth-failed',
      `broker ${broker} does not offer ${mechanism} for principal ${principal}: ${detail}`,
    );
  }
  if (facts.names.has('KafkaJSSASLAuthenticationError') || facts.types.has('SASL_AUTHENTICATION_FAILED')) {
    if (/mechanism/i.test(detail) && /not (enabled|supported)|unsupported/i.test(detail)) {
      return make(
        'bus-auth-failed',
        `broker ${broker} does not offer ${mechanism} for principal ${principal}: ${detail}`,
      );
    }
    return make(
      'bus-auth-failed',
      `broker ${broker} refused principal ${principal}: wrong password or unknown user (${mechanism})`,
    );
  }
  const tlsProblem = tlsProblemOf(facts, identity.security);
  if (tlsProblem !== undefined) {
    return make('bus-tls-failed', `TLS to broker ${broker} failed (principal ${principal}): ${tlsProblem}`);
  }
  // A SASL listener closes a connection that sends anything but the SASL handshake, a TLS
  // listener one that speaks plaintext: a guess only before anything worked (later, a closed
  // connection is a broker going away).
  const closed =
    (operation.access === 'connect' || operation.firstContact === true) &&
    (facts.names.has('KafkaJSConnectionClosedError') ||
      facts.messages.some((m) => /connection closed|closed connection/i.test(m)));
  if (closed && !sasl) {
    return make(
      'bus-auth-failed',
      `broker ${broker} closed the connection of principal ${principal}: it wants SASL credentials (bus.sasl` +
        `${tlsEnabled(identity.security) ? '' : ', and maybe bus.tls'}) that were not given`,
    );
  }
  if (closed && !tlsEnabled(identity.security)) {
    return make(
      'bus-unavailable',
      `broker ${broker} closed the connection of principal ${principal}: if its listener is SASL_SSL, set bus.tls (${detail})`,
    );
  }
  return make('bus-unavailable', `Kafka not reachable: ${detail} (broker ${broker}, principal ${principal})`);
}

/** The resource an authorisation error denies, as the message phrases it; undefined when none was denied. */
function deniedResource(types: ReadonlySet<string>, operation: BusOperation): string | undefined {
  if (types.has('TOPIC_AUTHORIZATION_FAILED')) {
    return `${operation.access} topic ${operation.topic ?? '(one of the topics asked for)'}`;
  }
  if (types.has('GROUP_AUTHORIZATION_FAILED')) {
    return `use consumer group ${operation.group ?? '(the group asked for)'}`;
  }
  if (types.has('CLUSTER_AUTHORIZATION_FAILED')) {
    const on = operation.topic === undefined ? '' : ` (for topic ${operation.topic})`;
    return `${operation.access} on the cluster${on}`;
  }
  if (types.has('TRANSACTIONAL_ID_AUTHORIZATION_FAILED')) return 'use its transactional id';
  return undefined;
}

function tlsProblemOf(facts: ChainFacts, security: BusSecurity): string | undefined {
  const text = facts.messages.join(' | ');
  const code = [...facts.codes].find((c) => TLS_CODES.has(c));
  const looksTls = code !== undefined || /certificate|self[- ]signed|ssl|tls|handshake/i.test(text);
  if (!looksTls) return undefined;
  // An alert from the broker about our side: it wants (another) client certificate.
  if (/alert (bad certificate|certificate required|unknown ca|certificate unknown)/i.test(text)) {
    const certFile = security.tls?.certFile;
    return certFile === undefined
      ? `the broker wants a client certificate: set bus.tls.certFile and bus.tls.keyFile (${lastTls(facts)})`
      : `the broker refused the client certificate bus.tls.certFile ${certFile} (is it signed by a CA the broker trusts?)`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `its certificate does not name the host connected to; set bus.tls.servername to a name it carries (${lastTls(facts)})`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `its certificate is not valid now (${code})`;
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(text)) {
    return `the listener does not speak TLS (remove bus.tls, or use the broker's SSL/SASL_SSL port) (${lastTls(facts)})`;
  }
  const ca = security.tls?.caFile === undefined ? "the system's CAs" : `bus.tls.caFile ${security.tls.caFile}`;
  if (code !== undefined) return `its certificate is not signed by a CA in ${ca} (${code})`;
  return lastTls(facts);
}

function lastTls(facts: ChainFacts): string {
  return facts.messages[facts.messages.length - 1] ?? 'TLS error';
}

function chainFacts(error: unknown): ChainFacts {
  const facts: ChainFacts = { names: new Set(), types: new Set(), codes: new Set(), broker: undefined, messages: [] };
  const seen = new Set<unknown>();
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 8 && !seen.has(e); depth++) {
    seen.add(e);
    const candidate = e as {
      name?: unknown;
      type?: unknown;
      code?: unknown;
      broker?: unknown;
      message?: unknown;
      cause?: unknown;
      originalError?: unknown;
    };
    if (typeof candidate.name === 'string') facts.names.add(candidate.name);
    if (typeof candidate.type === 'string') facts.types.add(candidate.type);
    if (typeof candidate.code === 'string') facts.codes.add(candidate.code);
    if (facts.broker === undefined && typeof candidate.broker === 'string' && !candidate.broker.includes('undefined')) {
      facts.broker = candidate.broker;
    }
    if (typeof candidate.message === 'string' && candidate.message !== '') facts.messages.push(candidate.message);
    e = candidate.cause ?? candidate.originalError;
  }
  return facts;
}

function pick(operation: BusOperation): Record<string, string> {
  return {
    access: operation.access,
    ...(operation.topic === undefined ? {} : { topic: operation.topic }),
    ...(operation.group === undefined ? {} : { group: operation.group }),
  };
}

/**
 * kafkajs reports a refused FindCoordinator as "Failed to find group coordinator", without the
 * broker's error; with the refusal found out (groupCoordinatorRefusal) the error says what it was.
 */
export function withGroupRefusal(error: unknown, refusedType: string | undefined): unknown {
  if (refusedType === undefined || !isGroupCoordinatorNotFound(error)) return error;
  return Object.assign(new Error(`${refusedType} (the group coordinator refused the group)`), {
    type: refusedType,
    cause: error,
  });
}

/** kafkajs' "Failed to find group coordinator", anywhere in the chain. */
export function isGroupCoordinatorNotFound(error: unknown): boolean {
  return chainFacts(error).names.has('KafkaJSGroupCoordinatorNotFound');
}
