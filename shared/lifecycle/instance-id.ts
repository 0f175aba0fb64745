import { hostname } from 'node:os';

/** A service instance's id: the configured one, else `<hostname>-<pid>` (the schemas' documented default). */
export function instanceIdOf(configured: string | undefined): string {
  return configured ?? `${hostname()}-${process.pid}`;
}
