/** The parts of `bus.sasl` / `bus.tls` the rules read (fragments.ts has the full types). */
export interface SecurityKeys {
  sasl?: { mechanism: string } | undefined;
  tls?: { enabled?: boolean; certFile?: string | undefined; keyFile?: string | undefined } | undefined;
}

/** A rule of the bus security keys that one key's schema cannot say (it needs two keys). */
export interface CrossKeyIssue {
  /** Path below the section, e.g. ['sasl', 'mechanism']. */
  path: string[];
  /** What is wrong, without the key (the caller names it with its own prefix). */
  problem: string;
}

/** Whether the keys ask for TLS: `tls` present and not `enabled: false`. */
export function tlsEnabled(security: SecurityKeys): boolean {
  return security.tls !== undefined && security.tls.enabled !== false;
}

/**
 * The rules between the bus security keys: SASL PLAIN sends the password as it is, so only
 * over TLS; a client certificate needs its key and a key its certificate.
 */
export function busSecurityIssues(security: SecurityKeys, section = 'bus'): CrossKeyIssue[] {
  const issues: CrossKeyIssue[] = [];
  if (security.sasl?.mechanism === 'plain' && !tlsEnabled(security)) {
    issues.push({
      path: ['sasl', 'mechanism'],
      problem: `"plain" sends the password in clear text and is accepted only with TLS (set ${section}.tls, or use scram-sha-512)`,
    });
  }
  const tls = security.tls;
  if (tls?.certFile !== undefined && tls.keyFile === undefined) {
    issues.push({
      path: ['tls', 'keyFile'],
      problem: `is needed with ${section}.tls.certFile (the client certificate's key)`,
    });
  }
  if (tls?.keyFile !== undefined && tls.certFile === undefined) {
    issues.push({
      path: ['tls', 'certFile'],
      problem: `is needed with ${section}.tls.keyFile (the key's certificate)`,
    });
  }
  return issues;
}
