/**
 * The registry a runner group pushes docker images to (`runner.docker` in the runner config),
 * with its credentials read from the environment variables the config names. The values never
 * appear in the config, in logs, or in errors.
 */
import { Type, type Static } from '@sinclair/typebox';
import { BuildfleetError } from '../../shared/errors/index.ts';
import type { RegistryAuth } from '../engine/index.ts';

/** `host[:port]` with an optional path below it: `registry.example.com/team`, `127.0.0.1:5000`. */
const REGISTRY_PATTERN = '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*$';

/** `runner.docker`: without it, docker images stay in the runner's engine, tagged but not pushed (LOCAL_IMAGES). */
export const DockerRegistrySettings = Type.Object({
  /** Images are pushed as `<registry>/<name>:<tag>`. */
  registry: Type.String({ pattern: REGISTRY_PATTERN }),
  /** Plain HTTP (or unverified TLS) to the registry; see docs/builders.md for Docker engines. @default false */
  insecure: Type.Boolean({ default: false }),
  /** Variable holding the registry user name; unset or empty means pushing without credentials. */
  usernameEnv: Type.String({ minLength: 1, default: 'BUILDFLEET_REGISTRY_USERNAME' }),
  /** Variable holding the registry password or token. */
  passwordEnv: Type.String({ minLength: 1, default: 'BUILDFLEET_REGISTRY_PASSWORD' }),
});
export type DockerRegistrySettings = Static<typeof DockerRegistrySettings>;

/** Where and how a docker build pushes: the compiled form of DockerRegistrySettings. */
export interface DockerRegistry {
  registry: string;
  insecure: boolean;
  auth?: RegistryAuth;
  /** No registry: images are built and tagged in the runner's engine only (LOCAL_IMAGES). */
  local?: boolean;
}

/**
 * A runner with an engine but no registry configured (the one-machine case, `buildfleet up`):
 * images are tagged `localhost/<name>:<tag>` in that engine and not pushed; the artifacts name
 * those references with the image id as digest.
 */
export const LOCAL_IMAGES: DockerRegistry = { registry: 'localhost', insecure: false, local: true };

/** Pure: `registry.example.com:5000/team` -> `registry.example.com:5000`. */
export function registryHost(registry: string): string {
  return registry.split('/')[0] ?? registry;
}

/**
 * Pure: the settings with the credentials taken from `env`. Both variables set: pushes log in;
 * neither: pushes go without credentials.
 * @throws BuildfleetError('config-invalid') naming the settings key when only one of the two is set
 */
export function dockerRegistryFrom(settings: DockerRegistrySettings, env: NodeJS.ProcessEnv): DockerRegistry {
  const username = env[settings.usernameEnv] ?? '';
  const password = env[settings.passwordEnv] ?? '';
  const base = { registry: settings.registry, insecure: settings.insecure };
  if (username === '' && password === '') return base;
  if (username === '' || password === '') {
    const [set, unset] = username === '' ? ['passwordEnv', 'usernameEnv'] : ['usernameEnv', 'passwordEnv'];
    const unsetName = username === '' ? settings.usernameEnv : settings.passwordEnv;
    throw new BuildfleetError(
      'config-invalid',
      `runner.docker.${unset}: the variable ${unsetName} is not set, but runner.docker.${set}'s is; set both or neither`,
      { context: { key: `runner.docker.${unset}` } },
    );
  }
  return { ...base, auth: { username, password, serverAddress: registryHost(settings.registry) } };
}
