/**
 * A secured Kafka for tests: one node whose client listener is SASL_SSL (SCRAM-SHA-512, a
 * certificate from a throw-away test CA made with the `openssl` CLI) and whose authorizer
 * (StandardAuthorizer, allow.everyone.if.no.acl.found=false) lets a principal do nothing its
 * ACLs do not allow. `admin` is a super user. Starts in about 20 s.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { startBroker, type KafkaBroker } from '../../infra/kafka/broker.ts';
import type { BusConfig } from '../../shared/config/index.ts';

export interface SecureBroker {
  brokers: string[]; // SASL_SSL listener(s)
  caFile: string; // PEM of the test CA
  /** BusConfig (type 'kafka', brokers, sasl scram-sha-512 user/password, tls {caFile}) for a user. */
  busConfig(user: string): BusConfig;
  cleanup(): Promise<void>;
}

/**
 * Starts a broker with StandardAuthorizer; user 'admin' is super user; every name in users gets a SCRAM-SHA-512 password.
 * With `clientCertificates` the broker requires a client certificate too (ssl.client.auth=required) and each
 * busConfig carries one (tls.certFile, tls.keyFile) signed by the test CA.
 */
export async function startSecureBroker(options: {
  users: string[];
  signal?: AbortSignal;
  clientCertificates?: boolean;
}): Promise<SecureBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'buildfleet-secure-kafka-'));
  let broker: KafkaBroker;
  const passwords = new Map<string, string>();
  for (const user of ['admin', ...options.users]) passwords.set(user, randomBytes(12).toString('hex'));
  let caFile: string;
  let client: { certFile: string; keyFile: string } | undefined;
  try {
    const ca = await makeTestCa(dir, 'ca', options.signal);
    caFile = ca.caFile;
    const server = await issueCertificate(ca, dir, 'broker', options.signal);
    const keystoreFile = join(dir, 'broker-keystore.pem');
    await writeFile(keystoreFile, (await readFile(server.keyFile, 'utf8')) + (await readFile(server.certFile, 'utf8')));
    if (options.clientCertificates) client = await issueCertificate(ca, dir, 'client', options.signal);
    broker = await startBroker({
      dataDir: join(dir, 'kafka'),
      stopTimeoutMs: 10_000,
      ...(client ? { extraProperties: { 'listener.name.sasl_ssl.ssl.client.auth': 'required' } } : {}),
      security: { scramUsers: Object.fromEntries(passwords), tls: { keystoreFile, caFile } },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let cleaning: Promise<void> | undefined;
  return {
    brokers: broker.brokers,
    caFile,
    busConfig(user: string): BusConfig {
      const password = passwords.get(user);
      if (password === undefined)
        throw new Error(`startSecureBroker: no user ${user} (users: ${[...passwords.keys()].join(', ')})`);
      return {
        type: 'kafka',
        brokers: broker.brokers,
        clientId: `test-${user}`,
        topicPrefix: 'buildfleet',
        sessionTimeoutMs: 30_000,
        sasl: { mechanism: 'scram-sha-512', username: user, password },
        tls: { enabled: true, caFile, ...client },
      };
    },
    cleanup: () =>
      (cleaning ??= (async () => {
        await broker.stop();
        await rm(dir, { recursive: true, force: true });
      })()),
  };
}

export interface TestCa {
  caFile: string;
  caKeyFile: string;
}

/** A self-signed CA (`<name>.pem`, `<name>.key` in dir), valid for two days. */
export async function makeTestCa(dir: string, name: string, signal?: AbortSignal): Promise<TestCa> {
  const caFile = join(dir, `${name}.pem`);
  const caKeyFile = join(dir, `${name}.key`);
  await openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=buildfleet test CA ${name}`],
    ['-keyout', caKeyFile, '-out', caFile],
    signal,
  );
  return { caFile, caKeyFile };
}

/** A certificate for 127.0.0.1 and localhost signed by the CA; the key is unencrypted PKCS#8. */
export async function issueCertificate(
  ca: TestCa,
  dir: string,
  name: string,
  signal?: AbortSignal,
): Promise<{ certFile: string; keyFile: string }> {
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.pem`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`],
    ['-keyout', keyFile, '-out', csrFile],
    signal,
  );
  await openssl(
    ['x509', '-req', '-in', csrFile, '-CA', ca.caFile, '-CAkey', ca.caKeyFile, '-CAcreateserial', '-days', '2'],
    ['-extfile', extFile, '-out', certFile],
    signal,
  );
  return { certFile, keyFile };
}

async function openssl(args: string[], files: string[], signal?: AbortSignal): Promise<void> {
  await execa('openssl', [...args, ...files], {
    all: true,
    timeout: 30_000,
    ...(signal ? { cancelSignal: signal } : {}),
  });
}
