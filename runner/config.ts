import { Type, type Static } from '@sinclair/typebox';
import { serviceConfig } from '../shared/config/index.ts';
import { DockerRegistrySettings } from './builders/docker-registry.ts';

/** The runner's own settings (`runner:` in its config file, `BUILDFLEET_RUNNER_*`). */
export const RunnerSettings = Type.Object({
  /** Unique per runner; used in events, logs and leases. @default '<hostname>-<pid>' */
  id: Type.Optional(Type.String({ minLength: 1 })),
  /** Runner group: the runner consumes `<prefix>.requests.<group>.<arch>` for each arch. */
  group: Type.String({ pattern: '^[A-Za-z0-9_-]+$', default: 'default' }),
  arches: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), { minItems: 1, default: ['x86_64'] }),
  /** Builds at the same time; intake pauses while all are busy. */
  slots: Type.Integer({ minimum: 1, default: 1 }),
  /** Heartbeats renew the lease this often; must be well under the request's leaseMs. */
  heartbeatMs: Type.Integer({ minimum: 100, default: 10_000 }),
  /** Per-build directories (sources, outputs, logs); removed after each build. */
  workDir: Type.String({ minLength: 1, default: 'var/runner/work' }),
  /** Git mirrors and buildroot caches that outlive builds. */
  cacheDir: Type.String({ minLength: 1, default: 'var/runner/cache' }),
  /** Which buildroot builds run in; `auto` picks container, else chroot. */
  buildroot: Type.Union(
    [Type.Literal('auto'), Type.Literal('container'), Type.Literal('chroot'), Type.Literal('host')],
    {
      default: 'auto',
    },
  ),
  /**
   * Whether this runner group runs builds that cannot be isolated from the runner host: KIWI
   * image builds (kind kiwi). RISK: kiwi-ng runs as root on the runner host, with the host's
   * network and file systems (it mounts, chroots and runs the description's scripts as root);
   * a package description can do anything root can on that machine, including reading the
   * runner's credentials. Set it only on a dedicated runner group (its own hosts or VMs, no
   * other secrets on them) that receives only image builds you trust. When false, a kiwi build
   * fails at once with 'kind-unsupported' saying so. `buildfleet up` sets it (a laptop builds its
   * owner's examples). @default false
   */
  allowHostBuilds: Type.Boolean({ default: false }),
  /**
   * Names of the runner's environment variables a build on the host buildroot gets (e.g.
   * `http_proxy`). Everything else of the runner's environment (BUILDFLEET_*, AWS_*, tokens)
   * stays out of build scripts; PATH is always passed. Container and chroot builds start from an
   * empty environment whatever this says. @default []
   */
  buildEnvAllow: Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), { default: [] }),
  /**
   * File with the armored OpenPGP public key that buildfleet's own repositories are checked with
   * when a buildroot installs from them. @default the key.asc stored beside each repository version
   * in the artifact store. That check catches damaged or half-written versions, not a forger: the
   * store is writable by every runner (they upload their artifacts to it), so whoever can write it
   * can replace key.asc with the repository. Set this file when a runner must not trust the store.
   */
  ownRepositoriesKeyFile: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * When the container buildroot pulls an image dist's base image (`base.image`) again although
   * the engine has it (docs/buildroots.md, "Image bases"). Digest-pinned images never are.
   */
  baseImagePull: Type.Object(
    {
      /** `max-age`: once after each start, then when pulled `maxAgeMinutes` ago; `always`; `missing`: never. */
      tags: Type.Union([Type.Literal('max-age'), Type.Literal('always'), Type.Literal('missing')], {
        default: 'max-age',
      }),
      maxAgeMinutes: Type.Number({ minimum: 0, default: 60 }),
    },
    { default: {} },
  ),
  /** Docker API socket (Docker, or Podman's `podman system service`). */
  engineSocket: Type.String({ minLength: 1, default: '/run/podman/podman.sock' }),
  /** The registry docker builds push to (one per runner group); without it docker builds fail. */
  docker: Type.Optional(DockerRegistrySettings),
  /** Defaults for a package that sets none in its buildfleet.yml. */
  limits: Type.Object(
    {
      memoryMb: Type.Integer({ minimum: 64, default: 4096 }),
      pids: Type.Integer({ minimum: 16, default: 4096 }),
      timeoutMinutes: Type.Number({ exclusiveMinimum: 0, default: 120 }),
    },
    { default: {} },
  ),
  /** On shutdown, running builds get this long to finish before they are handed back. */
  graceMs: Type.Integer({ minimum: 0, default: 30_000 }),
});
export type RunnerSettings = Static<typeof RunnerSettings>;

export const RunnerConfig = serviceConfig({ storage: true, metrics: true }, { runner: RunnerSettings });
export type RunnerConfig = Static<typeof RunnerConfig>;
