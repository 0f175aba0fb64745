/**
 * Who waits for whom (issue 11, "Order"): a blocked build waits until the builds of its
 * dependencies are published. This index answers "which blocked builds wait for build X" and
 * "which wait for a build of key K that has not been submitted yet" without scanning every
 * build, and the helpers below phrase waits and find cycles. Plain data, no I/O.
 */
import type { DependencyWait, TrackedBuild } from './tracked-build.ts';

export class WaitIndex {
  /** Dependency buildId -> the blocked builds waiting for it. */
  private readonly byBuild = new Map<string, Set<string>>();
  /** Dependency buildKey -> the blocked builds waiting for a build of it that is not known yet. */
  private readonly byKey = new Map<string, Set<string>>();

  /** Indexes every wait of a blocked build. */
  add(build: TrackedBuild): void {
    for (const wait of build.waitFor ?? []) {
      if (wait.buildId === undefined) addTo(this.byKey, wait.buildKey, build.buildId);
      else addTo(this.byBuild, wait.buildId, build.buildId);
    }
  }

  /** Forgets every wait of a build (it was dispatched or ended). */
  remove(build: TrackedBuild): void {
    for (const wait of build.waitFor ?? []) {
      if (wait.buildId === undefined) removeFrom(this.byKey, wait.buildKey, build.buildId);
      else removeFrom(this.byBuild, wait.buildId, build.buildId);
    }
  }

  waitingFor(buildId: string): string[] {
    return [...(this.byBuild.get(buildId) ?? [])];
  }

  waitingForKey(buildKey: string): string[] {
    return [...(this.byKey.get(buildKey) ?? [])];
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

/** `dependency projects/x/libfoo (build <id>), projects/x/libbar (not submitted yet)` */
export function waitReason(waits: readonly DependencyWait[]): string {
  const parts = waits.map(
    (w) => `${w.project} (${w.buildId === undefined ? 'not submitted yet' : `build ${w.buildId}`})`,
  );
  return `dependency ${parts.join(', ')}`;
}

/** The builds a blocked build still waits for (those already known). */
export function waitedBuildIds(build: TrackedBuild): string[] {
  return (build.waitFor ?? []).flatMap((w) => (w.buildId === undefined ? [] : [w.buildId]));
}

/**
 * A cycle of waits through `start`, as the builds along it starting with `start`
 * (`[a, b]` means a waits for b, which waits for a); undefined when there is none.
 */
export function cycleThrough(
  start: TrackedBuild,
  get: (buildId: string) => TrackedBuild | undefined,
): TrackedBuild[] | undefined {
  const path: TrackedBuild[] = [start];
  const seen = new Set<string>([start.buildId]);
  const visit = (build: TrackedBuild): TrackedBuild[] | undefined => {
    for (const next of waitedBuildIds(build)) {
      if (next === start.buildId) return [...path];
      if (seen.has(next)) continue;
      seen.add(next);
      const dependency = get(next);
      if (dependency === undefined || dependency.phase !== 'blocked') continue;
      path.push(dependency);
      const found = visit(dependency);
      if (found) return found;
      path.pop();
    }
    return undefined;
  };
  return visit(start);
}

/** `projects/a -> projects/b -> projects/a` */
export function cycleText(members: readonly TrackedBuild[]): string {
  const projects = members.map((b) => b.project);
  return [...projects, projects[0] ?? ''].join(' -> ');
}
