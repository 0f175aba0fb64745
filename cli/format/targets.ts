/** Reading command-line arguments that name targets and builds. Pure. */
import { BuildfleetError } from '../../shared/errors/index.ts';
import type { Target } from '../../shared/messages/index.ts';

/** `bookworm.x86_64` -> { dist: 'bookworm', arch: 'x86_64' }; arches never hold a dot, so it splits on the last one. */
export function parseTarget(text: string): Target {
  const dot = text.lastIndexOf('.');
  const dist = text.slice(0, dot);
  const arch = text.slice(dot + 1);
  if (dot <= 0 || arch === '' || !/^[A-Za-z0-9_-]+$/.test(arch) || dist.includes('/') || dist.includes('@')) {
    throw new BuildfleetError('usage', `--target must be <dist>.<arch>, e.g. bookworm.x86_64 (got "${text}")`, {
      context: { value: text },
    });
  }
  return { dist, arch };
}

/** commander's collector for a repeated `--target`. */
export function collectTarget(value: string, previous: Target[] = []): Target[] {
  return [...previous, parseTarget(value)];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Build ids are uuids; a project is a path. */
export function looksLikeBuildId(text: string): boolean {
  return UUID.test(text);
}
