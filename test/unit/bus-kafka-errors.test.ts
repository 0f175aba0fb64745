import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { translateKafkaError, withGroupRefusal, type BusIdentity } from '../../shared/bus/kafka/errors.ts';
import { BuildfleetError } from '../../shared/errors/index.ts';

// kafkajs is CommonJS: its error classes are properties of the default export.
const { KafkaJSProtocolError, KafkaJSNumberOfRetriesExceeded, KafkaJSConnectionError } = kafkajs;

const runner: BusIdentity = {
  brokers: ['k1:9093'],
  security: {
    sasl: { mechanism: 'scram-sha-512', username: 'runner', password: 'pw' },
    tls: { enabled: true, caFile: '/etc/kafka/ca.pem' },
  },
};

/** A protocol error as kafkajs raises it after its retries, wrapped once more. */
function protocolError(type: string, code: number): Error {
  // What protocol/error.js hands the constructor: an error entry with its type and code.
  const entry = Object.assign(new Error(`${type} from the broker`), { type, code, retriable: false });
  const inner = new KafkaJSProtocolError(entry);
  return new KafkaJSNumberOfRetriesExceeded(inner, { retryCount: 0, retryTime: 0 });
}

describe('translateKafkaError', () => {
  it('says which group the principal may not use', () => {
    const error = translateKafkaError(protocolError('GROUP_AUTHORIZATION_FAILED', 30), runner, {
      access: 'read',
      topic: 'buildfleet.requests.x',
      group: 'buildfleet.runners.x',
    });
    assert.equal(error.code, 'bus-not-authorised');
    assert.equal(
      error.message,
      "principal 'runner' may not use consumer group buildfleet.runners.x (broker k1:9093; its ACLs do not allow it: buildfleet acls apply)",
    );
    assert.deepEqual(error.context['group'], 'buildfleet.runners.x');
  });

  it('turns "Failed to find group coordinator" into the refusal the brokers gave, when one was found out', () => {
    // As cluster/index.js throws it (its typed constructor takes no message).
    const notFound = Object.assign(new Error('Failed to find group coordinator'), {
      name: 'KafkaJSGroupCoordinatorNotFound',
    });
    const operation = { access: 'read' as const, topic: 't', group: 'g' };
    assert.equal(translateKafkaError(withGroupRefusal(notFound, undefined), runner, operation).code, 'bus-unavailable');
    const refused = translateKafkaError(withGroupRefusal(notFound, 'GROUP_AUTHORIZATION_FAILED'), runner, operation);
    assert.equal(refused.code, 'bus-not-authorised');
    assert.match(refused.message, /^principal 'runner' may not use consumer group g /);
  });

  it('names the cluster operation and the topic it was for', () => {
    const error = translateKafkaError(protocolError('CLUSTER_AUTHORIZATION_FAILED', 31), runner, {
      access: 'create',
      topic: 'buildfleet.submit',
    });
    assert.equal(error.code, 'bus-not-authorised');
    assert.match(error.message, /^principal 'runner' may not create on the cluster \(for topic buildfleet\.submit\)/);
  });

  it('tells a certificate without the host name from an unknown CA', () => {
    const altname = Object.assign(new Error("Hostname/IP does not match certificate's altnames"), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    const error = translateKafkaError(
      new KafkaJSConnectionError(`Connection error: ${altname.message}`, {
        broker: 'k1:9093',
        code: altname.code,
      }),
      runner,
      { access: 'connect' },
    );
    assert.equal(error.code, 'bus-tls-failed');
    assert.match(error.message, /^TLS to broker k1:9093 failed \(principal 'runner'\): .*set bus\.tls\.servername/);
  });

  it('guesses "wants SASL" from a closed connection only while connecting', () => {
    const closed = (): Error =>
      Object.assign(new Error('Closed connection'), { name: 'KafkaJSConnectionClosedError', broker: 'k1:9092' });
    const anonymous: BusIdentity = { brokers: ['k1:9092'], security: {} };
    const connecting = translateKafkaError(closed(), anonymous, { access: 'connect' });
    assert.equal(connecting.code, 'bus-auth-failed');
    assert.match(connecting.message, /^broker k1:9092 closed the connection of principal ANONYMOUS: it wants SASL/);
    // Later a closed connection is a broker going away: retriable, no guess.
    const publishing = translateKafkaError(closed(), anonymous, { access: 'write', topic: 't' });
    assert.equal(publishing.code, 'bus-unavailable');
    assert.equal(publishing.retriable, true);
  });

  it('keeps a BuildfleetError and reports an unreachable broker as bus-unavailable', () => {
    const own = new BuildfleetError('topic-missing', 'topic x does not exist');
    assert.equal(translateKafkaError(own, runner, { access: 'write', topic: 'x' }), own);
    const refused = translateKafkaError(
      new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9', {
        broker: '127.0.0.1:9',
        code: 'ECONNREFUSED',
      }),
      { brokers: ['127.0.0.1:9'], security: {} },
      { access: 'connect' },
    );
    assert.equal(refused.code, 'bus-unavailable');
    assert.match(
      refused.message,
      /^Kafka not reachable: .*ECONNREFUSED.*\(broker 127\.0\.0\.1:9, principal ANONYMOUS\)$/,
    );
  });
});
