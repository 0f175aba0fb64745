import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeProperties, scramFormatArgs, type BrokerSecurity } from '../../infra/kafka/config.ts';

const security: BrokerSecurity = {
  scramUsers: { admin: 'pa"ss', runner: 'r1' },
  tls: { keystoreFile: '/k/broker-keystore.pem', caFile: '/k/ca.pem' },
};
const base = {
  nodeId: 1,
  port: 9093,
  controllerPort: 9094,
  logDir: '/k/logs',
  voters: [{ nodeId: 1, controllerPort: 9094 }],
};

describe('the secured test broker configuration', () => {
  it('has a SASL_SSL client listener, PEM stores and an authorizer that denies without ACLs', () => {
    const properties = nodeProperties({ ...base, security });
    assert.equal(properties['listeners'], 'SASL_SSL://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094');
    assert.equal(properties['advertised.listeners'], 'SASL_SSL://127.0.0.1:9093');
    assert.equal(properties['listener.security.protocol.map'], 'SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT');
    assert.equal(properties['sasl.enabled.mechanisms'], 'SCRAM-SHA-512');
    assert.equal(properties['ssl.keystore.type'], 'PEM');
    assert.equal(properties['ssl.truststore.location'], '/k/ca.pem');
    assert.equal(properties['authorizer.class.name'], 'org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    assert.equal(properties['allow.everyone.if.no.acl.found'], 'false');
    assert.equal(properties['super.users'], 'User:admin;User:ANONYMOUS');
    // The admin's password is quoted for JAAS.
    assert.match(properties['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config'] ?? '', /password="pa\\"ss";$/);
    // Without security: the plaintext broker of every other test, no authorizer.
    const plain = nodeProperties(base);
    assert.equal(plain['listeners'], 'PLAINTEXT://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094');
    assert.equal(plain['authorizer.class.name'], undefined);
  });

  it('creates the SCRAM users at format time and refuses what the tool would misread', () => {
    assert.deepEqual(scramFormatArgs({ ...security, scramUsers: { admin: 'a1', runner: 'r1' } }), [
      '--add-scram',
      'SCRAM-SHA-512=[name=admin,password=a1]',
      '--add-scram',
      'SCRAM-SHA-512=[name=runner,password=r1]',
    ]);
    assert.deepEqual(scramFormatArgs(undefined), []);
    assert.throws(() => scramFormatArgs({ ...security, scramUsers: { admin: 'a,b' } }), /passwords without , \] or "/);
    assert.throws(() => scramFormatArgs(security), /passwords without/);
    assert.throws(() => nodeProperties({ ...base, security: { ...security, scramUsers: { runner: 'x' } } }), /admin/);
  });
});
