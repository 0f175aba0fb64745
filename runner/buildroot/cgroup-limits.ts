/**
 * Memory and process limits for chroot builds through a cgroup of their own, made directly in
 * the cgroup filesystem (no systemd needed). Works with cgroup v2 (unified) and v1 (one
 * hierarchy per controller, as on hosts with the hybrid layout). The build's first process
 * joins by writing its pid into each `procsFiles` entry before it starts the build.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CGROUP_ROOT = '/sys/fs/cgroup';
const PARENT = 'buildfleet';

export interface CgroupLimits {
  readonly name: string;
  /** `cgroup.procs` files the build's first process writes its pid to. */
  readonly procsFiles: string[];
  /** Kills every process still in the cgroup and removes it. Idempotent. */
  remove(): Promise<void>;
}

export type CgroupOutcome = { ok: true; limits: CgroupLimits } | { ok: false; reason: string };

/** Makes `buildfleet/<name>` with the limits; `ok: false` says why limits cannot be set here. */
export async function createCgroupLimits(
  name: string,
  limits: { memoryBytes: number; pids: number },
): Promise<CgroupOutcome> {
  try {
    if (existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) return { ok: true, limits: await createV2(name, limits) };
    if (existsSync(join(CGROUP_ROOT, 'memory')) && existsSync(join(CGROUP_ROOT, 'pids'))) {
      return { ok: true, limits: await createV1(name, limits) };
    }
    return { ok: false, reason: `no memory and pids controllers under ${CGROUP_ROOT}` };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

async function createV2(name: string, limits: { memoryBytes: number; pids: number }): Promise<CgroupLimits> {
  const parent = join(CGROUP_ROOT, PARENT);
  await mkdir(parent, { recursive: true });
  // Controllers must be enabled for the children of every level from the root down.
  await writeFile(join(CGROUP_ROOT, 'cgroup.subtree_control'), '+memory +pids');
  await writeFile(join(parent, 'cgroup.subtree_control'), '+memory +pids');
  const dir = join(parent, name);
  await mkdir(dir);
  await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
  await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => undefined); // absent without swap accounting
  await writeFile(join(dir, 'pids.max'), String(limits.pids));
  return removable(name, [dir], async () => {
    await writeFile(join(dir, 'cgroup.kill'), '1').catch(() => killListed([dir]));
  });
}

async function createV1(name: string, limits: { memoryBytes: number; pids: number }): Promise<CgroupLimits> {
  const memory = join(CGROUP_ROOT, 'memory', PARENT, name);
  const pids = join(CGROUP_ROOT, 'pids', PARENT, name);
  await mkdir(memory, { recursive: true });
  await mkdir(pids, { recursive: true });
  await writeFile(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
  await writeFile(join(pids, 'pids.max'), String(limits.pids));
  return removable(name, [memory, pids], () => killListed([pids, memory]));
}

function removable(name: string, dirs: string[], killAll: () => Promise<void>): CgroupLimits {
  let removing: Promise<void> | undefined;
  return {
    name,
    procsFiles: dirs.map((dir) => join(dir, 'cgroup.procs')),
    remove: () =>
      (removing ??= (async () => {
        // rmdir fails with EBUSY while a process is inside; killed processes take a moment to leave.
        for (let attempt = 0; ; attempt++) {
          await killAll();
          const results = await Promise.allSettled(dirs.filter((dir) => existsSync(dir)).map((dir) => rmdir(dir)));
          const failed = results.find((result) => result.status === 'rejected');
          if (failed === undefined) return;
          if (attempt >= 50) throw failed.reason;
          await sleep(20);
        }
      })()),
  };
}

async function killListed(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const pid of procs.split('\n').filter((line) => line !== '')) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
