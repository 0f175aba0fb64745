/**
 * Cascades (issue 12): a package published anew makes the packages built against it stale; they
 * are rebuilt against it, in dependency order, each once. The plan (which packages, in which
 * order, needing which of the others) comes from the graph at the published build's commit
 * (scheduler/resolve.ts); this decides, for each, whether a build of it still to come already
 * covers it or a rebuild is needed, and what the rebuild waits for. Plain data and effects.
 */
import { buildKeyOf, type Rebuild, type Target } from '../../shared/messages/index.ts';

type RebuildBecause = Rebuild['because'][number];
import { buildIdOf } from './build-id.ts';
import type { DependencyOrder } from './dependency-order.ts';
import type { SchedulerEffect } from './effects.ts';
import type { DependencyWait, PlannedTarget, ResolvedSubmit, TrackedBuild } from './tracked-build.ts';

/** The published build a cascade starts from. */
export interface CascadeTrigger {
  buildId: string;
  project: string;
  buildKey: string;
  target: Target;
  commit: string;
  /** When the published build was made (epoch ms). */
  createdAt?: number;
}

/** One package of the cascade: its target of the trigger's dist and arch, and what it needs among the cascade. */
export interface CascadeMember extends PlannedTarget {
  project: string;
}

export interface CascadePlan extends ResolvedSubmit {
  /** In dependency order: each member's `dependencies` are the trigger or members before it. */
  targets: CascadeMember[];
}

/** A build to make: its key, target, commit, what it waits for, and for a rebuild its number and reasons. */
export interface NewBuild {
  buildId: string;
  buildKey: string;
  project: string;
  planned: PlannedTarget;
  resolved: ResolvedSubmit;
  submitId: string;
  waits: DependencyWait[];
  rebuild?: Rebuild;
}

/** What the cascade needs of the build table. */
export interface CascadeTable {
  current(buildKey: string): TrackedBuild | undefined;
  nextRebuild(buildKey: string): number;
  remember(submitId: string, buildIds: string[]): void;
  add(
    fields: NewBuild,
    now: number,
  ): { build: TrackedBuild; persist: SchedulerEffect[]; after: SchedulerEffect[]; touched: TrackedBuild[] };
}

/** The submission id of the cascade a published build starts: the same build never starts two. */
export function cascadeSubmitId(buildId: string): string {
  return `cascade:${buildId}`;
}

/**
 * The effects of a cascade. A member never built before is left to its own first build. A
 * member whose active build has not been dispatched yet (it waits,
 * or was released by this very `published`) is built after the trigger's publish anyway: it is
 * kept, and waits also for the cascade's builds of its dependencies. Any other member (no active
 * build, or one that runs against the old version) gets a rebuild at the trigger's commit (or at
 * its own newer commit, when its last build was made after the trigger) with the next rebuild
 * number of its key, superseding what runs.
 */
export function cascadeEffects(
  table: CascadeTable,
  order: DependencyOrder,
  trigger: CascadeTrigger,
  plan: CascadePlan,
  now: number,
): SchedulerEffect[] {
  const submitId = cascadeSubmitId(trigger.buildId);
  const persist: SchedulerEffect[] = [];
  const after: SchedulerEffect[] = [];
  const touched: TrackedBuild[] = [];
  const created: string[] = [];
  /** The build of each member that comes after the trigger's publish. */
  const builds = new Map<string, TrackedBuild>();
  for (const member of plan.targets) {
    const buildKey = buildKeyOf(member.project, member.target);
    const waits: DependencyWait[] = [];
    const because: RebuildBecause[] = [];
    for (const dependency of member.dependencies ?? []) {
      const build = builds.get(dependency.project);
      if (build) {
        waits.push({ ...dependency, buildId: build.buildId });
        because.push({ project: dependency.project, buildId: build.buildId });
      } else if (dependency.project === trigger.project) {
        because.push({ project: trigger.project, buildId: trigger.buildId });
      }
    }
    const current = table.current(buildKey);
    // Never built (a first import whose submission has not come yet): nothing of it is stale.
    if (!current && !order.builtBefore(buildKey)) continue;
    if (current && !current.dispatched) {
      builds.set(member.project, current);
      if (order.waitAlso(current, waits)) {
        persist.push({ type: 'persist-build', build: current });
        after.push(order.waitingEvent(current));
        touched.push(current);
      }
      continue;
    }
    const buildId = buildIdOf(submitId, buildKey);
    // Its sources at a commit newer than the change (built after the change was submitted, but
    // against the old version) are rebuilt from that commit: a cascade never takes sources back.
    const newer = [current, order.lastBuild(buildKey)].find(
      (b) => b !== undefined && trigger.createdAt !== undefined && (b.createdAt ?? 0) > trigger.createdAt,
    );
    const resolved = newer ? { ...plan, commit: newer.commit } : plan;
    const rebuild = {
      number: table.nextRebuild(buildKey),
      because: because.length > 0 ? because : [{ project: trigger.project, buildId: trigger.buildId }],
    };
    const made = table.add(
      { buildId, buildKey, project: member.project, planned: member, resolved, submitId, waits, rebuild },
      now,
    );
    builds.set(member.project, made.build);
    created.push(buildId);
    persist.push(...made.persist);
    after.push(...made.after);
    touched.push(...made.touched);
  }
  table.remember(submitId, created);
  // Only a cascade that made builds is recorded: one that made none is harmless to work out again.
  const record: SchedulerEffect[] = created.length > 0 ? [{ type: 'persist-submit', submitId, buildIds: created }] : [];
  return [...record, ...persist, ...after, ...order.failCycles(touched)];
}
