/**
 * Pure: the `kiwi.args` of a buildfleet.yml, checked against the kiwi-ng options a package may
 * set, and split into kiwi-ng's global options (before `system build`) and the options of
 * `system build`. The runner sets the description, target, temp and cache directories, the
 * description file and the log itself, so a package cannot; options that read files of the
 * build host (signing keys, credential files, a runtime config) are not allowed either.
 * docs/builders.md (kiwi) lists them.
 */

/** Where an option goes on the kiwi-ng command line and whether it takes a value. */
export interface KiwiOption {
  place: 'global' | 'build';
  value: boolean;
}

/** The options of kiwi-ng 9.24 (Debian 12's kiwi) that `kiwi.args` may hold. */
const KIWI_ARG_OPTIONS: Readonly<Record<string, KiwiOption>> = {
  '--type': { place: 'global', value: true },
  '--profile': { place: 'global', value: true },
  '--debug': { place: 'global', value: false },
  '--add-package': { place: 'build', value: true },
  '--delete-package': { place: 'build', value: true },
  '--add-bootstrap-package': { place: 'build', value: true },
  '--add-repo': { place: 'build', value: true },
  '--set-repo': { place: 'build', value: true },
  '--ignore-repos': { place: 'build', value: false },
  '--ignore-repos-used-for-build': { place: 'build', value: false },
  '--clear-cache': { place: 'build', value: false },
  '--set-container-tag': { place: 'build', value: true },
  '--set-container-derived-from': { place: 'build', value: true },
  '--add-container-label': { place: 'build', value: true },
};

/** `kiwi.args` split by place; every option in its `--name=value` form. */
export interface KiwiArgs {
  global: string[];
  build: string[];
}

/** Why `kiwi.args[index]` cannot be used; `reason` follows the field name in an error message. */
export interface KiwiArgsProblem {
  index: number;
  reason: string;
}

/**
 * Checks and splits `kiwi.args`. Both `--type=oci` and `--type`, `oci` (two items) are read.
 */
export function parseKiwiArgs(args: readonly string[]): KiwiArgs | KiwiArgsProblem {
  const parsed: KiwiArgs = { global: [], build: [] };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? '';
    const equals = arg.indexOf('=');
    const name = equals === -1 ? arg : arg.slice(0, equals);
    const option = KIWI_ARG_OPTIONS[name];
    if (option === undefined) {
      const allowed = Object.keys(KIWI_ARG_OPTIONS).join(', ');
      const what = name.startsWith('--') ? 'a kiwi-ng option a package may set' : 'an option';
      return { index, reason: `is "${arg}", which is not ${what} (allowed: ${allowed})` };
    }
    if (!option.value) {
      if (equals !== -1) return { index, reason: `is "${arg}", but ${name} takes no value` };
      parsed[option.place].push(name);
      continue;
    }
    let value: string | undefined;
    if (equals !== -1) {
      value = arg.slice(equals + 1);
    } else {
      value = args[index + 1];
      if (value === undefined || value.startsWith('--')) return { index, reason: `is ${name} without its value` };
      index++;
    }
    if (value === '') return { index, reason: `is ${name} with an empty value` };
    parsed[option.place].push(`${name}=${value}`);
  }
  return parsed;
}
