import { Type, type Static } from '@sinclair/typebox';
import { serviceConfig } from '../shared/config/index.ts';
import { HashedToken } from '../shared/http/index.ts';

/**
 * The info service's own settings (`info:` in its config file, `BUILDFLEET_INFO_*`). Its metrics
 * are served by its HTTP API on `/metrics`, so it has no `metrics:` section of its own.
 */
export const InfoSettings = Type.Object({
  /** This instance, in answers and group names. @default '<hostname>-<pid>' */
  id: Type.Optional(Type.String({ minLength: 1 })),
  http: Type.Object(
    {
      host: Type.String({ minLength: 1, default: '127.0.0.1' }),
      /** 0 picks a free port (tests). */
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
      /**
       * Host names requests may name besides publicUrl's, the listen address and localhost (IP
       * literals always pass); `*` accepts any Host (behind a proxy that checks it). docs/security.md.
       */
      allowedHosts: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    },
    { default: {} },
  ),
  /** Who may use the HTTP API (docs/security.md, "HTTP identities"). */
  auth: Type.Object(
    {
      /**
       * What a request without a token may do: `none` (public routes only), `read`, or `submit`
       * (only on a loopback address: `buildfleet up --insecure-local`).
       */
      anonymous: Type.Union([Type.Literal('none'), Type.Literal('read'), Type.Literal('submit')], { default: 'none' }),
      /** The tokens file `buildfleet tokens` manages; re-read when it changes. */
      tokensFile: Type.Optional(Type.String({ minLength: 1 })),
      /** Tokens in the config itself (hashed, as in the tokens file). */
      tokens: Type.Array(HashedToken, { default: [] }),
    },
    { default: {} },
  ),
  /** Serve the published repositories at `/repos/...` from the artifact store. */
  serveRepos: Type.Boolean({ default: true }),
  /** Where clients reach the repositories; `GET /api/repos` answers URLs under it. */
  publicUrl: Type.String({ minLength: 1, default: 'http://127.0.0.1:8080/repos' }),
  /** Builds kept in the view; beyond it the least recently updated are forgotten. */
  maxBuilds: Type.Integer({ minimum: 1, default: 200_000 }),
  /** Lines kept per running build for `GET /api/builds/:id/log` before its log is stored. */
  logLinesPerBuild: Type.Integer({ minimum: 1, default: 2000 }),
  /** Reading the events topic at start counts as done after this long without a record. */
  catchUpQuietMs: Type.Integer({ minimum: 100, default: 5000 }),
  /** After a build ended, its log followers wait this long for the final log chunk. */
  logSettleMs: Type.Integer({ minimum: 0, default: 10_000 }),
  /**
   * Long-lived responses: event streams (`GET /api/events`) and followed logs (`log?follow=1`)
   * count together. Beyond a cap the answer is 429 `too-many-streams` (docs/info-service.md).
   */
  streams: Type.Object(
    {
      /** Open streams of one client address (behind a proxy all clients share its address). */
      maxPerClient: Type.Integer({ minimum: 1, default: 16 }),
      /** Open streams of all clients together. */
      maxTotal: Type.Integer({ minimum: 1, default: 1000 }),
      /** A stream whose writes wait for its client longer than this is destroyed (slow reader). */
      slowReaderMs: Type.Integer({ minimum: 100, default: 30_000 }),
    },
    { default: {} },
  ),
  /** On shutdown, open requests get this long before connections are cut. */
  graceMs: Type.Integer({ minimum: 0, default: 5000 }),
  /** The sources repository, for `GET /api/graph`; without it that route answers 503 `sources-unconfigured`. */
  sources: Type.Optional(
    Type.Object({
      /** Git URL or absolute path, as the scheduler's `scheduler.sources.url`. */
      url: Type.String({ minLength: 1 }),
      /** The ref answered when a request names none. */
      branch: Type.String({ minLength: 1, default: 'main' }),
      /** Holds the git mirror and the checkouts of recent commits. */
      workDir: Type.String({ minLength: 1, default: 'var/info-service' }),
    }),
  ),
});
export type InfoSettings = Static<typeof InfoSettings>;

export const InfoServiceConfig = serviceConfig({ storage: true, metrics: false }, { info: InfoSettings });
export type InfoServiceConfig = Static<typeof InfoServiceConfig>;
