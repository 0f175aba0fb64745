import { Type, type Static } from '@sinclair/typebox';
import { serviceConfig } from '../shared/config/index.ts';

/** The collector's own settings (`collector:` in its config file, `BUILDFLEET_COLLECTOR_*`). */
export const CollectorSettings = Type.Object({
  /** @default '<hostname>-<pid>' */
  id: Type.Optional(Type.String({ minLength: 1 })),
  /** Where clients reach the repositories (the info service's /repos, or a web server in front of the store). */
  publicUrl: Type.String({ minLength: 1, default: 'http://127.0.0.1:8080/repos' }),
  /** Versions of each package kept in a repository's pool. */
  keepVersions: Type.Integer({ minimum: 1, default: 3 }),
  /** A success waits this long for more of the same repository, so a burst becomes one publish. */
  coalesceMs: Type.Integer({ minimum: 0, default: 1000 }),
  /** A publish that failed is tried again after this long. */
  retryMs: Type.Integer({ minimum: 100, default: 5000 }),
  /** Scratch space for writing repository versions. */
  workDir: Type.String({ minLength: 1, default: 'var/collector' }),
  signing: Type.Object(
    {
      /** An armored private key file (or an exported keyring in armor). */
      keyFile: Type.Optional(Type.String({ minLength: 1 })),
      /** Name of the environment variable holding the armored private key. */
      keyEnv: Type.String({ minLength: 1, default: 'BUILDFLEET_SIGNING_KEY' }),
      /** Name of the environment variable holding the key's passphrase, if it has one. */
      passphraseEnv: Type.String({ minLength: 1, default: 'BUILDFLEET_SIGNING_PASSPHRASE' }),
    },
    { default: {} },
  ),
});
export type CollectorSettings = Static<typeof CollectorSettings>;

export const CollectorConfig = serviceConfig({ storage: true, metrics: true }, { collector: CollectorSettings });
export type CollectorConfig = Static<typeof CollectorConfig>;
