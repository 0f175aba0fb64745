import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { busSecurityIssues, tlsEnabled } from '../../config/bus-security.ts';
import type { BusSecurity } from '../../config/fragments.ts';
import { BuildfleetError } from '../../errors/index.ts';

/** What kafkajs takes for security: its `ssl` and `sasl` options. */
export interface KafkaSecurityOptions {
  ssl: boolean | ConnectionOptions;
  sasl?: SASLOptions;
}

/**
 * The one mapping of the bus security keys (`bus.sasl`, `bus.tls`) onto kafkajs options, for the
 * services and the CLI alike. The PEM files are read here, when the bus is made, so a missing
 * or unreadable file is a config error naming its key. `section` is how the keys are named in
 * messages.
 */
export function kafkaSecurityOptions(
  security: BusSecurity,
  section = 'bus',
  readFile: (file: string) => Buffer = readFileSync,
): KafkaSecurityOptions {
  const [issue] = busSecurityIssues(security, section);
  if (issue !== undefined) {
    const key = [section, ...issue.path].join('.');
    throw new BuildfleetError('config-invalid', `config: ${key} ${issue.problem}`, { context: { key } });
  }
  const options: KafkaSecurityOptions = { ssl: false };
  if (security.sasl) {
    const { mechanism, username, password } = security.sasl;
    options.sasl = { mechanism, username, password };
  }
  const tls = security.tls;
  if (tls === undefined || !tlsEnabled(security)) return options;
  const read = (key: 'caFile' | 'certFile' | 'keyFile'): Buffer | undefined => {
    const file = tls[key];
    if (file === undefined) return undefined;
    try {
      return readFile(file);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
      throw new BuildfleetError('config-invalid', `config: ${section}.tls.${key}: cannot read ${file} (${why})`, {
        cause: error,
        context: { key: `${section}.tls.${key}`, file },
      });
    }
  };
  const ca = read('caFile');
  const cert = read('certFile');
  const key = read('keyFile');
  options.ssl = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(tls.servername ? { servername: tls.servername } : {}),
  };
  return options;
}

/** The principal the brokers see, for messages: `'runner' (SCRAM-SHA-512)`, or who connects without SASL. */
export function describePrincipal(security: BusSecurity): string {
  if (security.sasl) return `'${security.sasl.username}' (${security.sasl.mechanism.toUpperCase()})`;
  if (tlsEnabled(security) && security.tls?.certFile !== undefined) {
    return `of the client certificate ${security.tls.certFile}`;
  }
  return 'ANONYMOUS (no bus.sasl set)';
}
