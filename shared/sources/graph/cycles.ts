/**
 * Cycles of a dist's dependency graph: the strongly connected components (Tarjan), and in each
 * component of two or more projects shortest cycles (breadth-first, in sorted order) until every
 * member is on one, each cycle once, rotated to start at its smallest project. Not every elementary cycle is listed (there can be
 * exponentially many); every project in a cycle is in at least one listed cycle.
 */

/** Components of two or more nodes, each sorted, in order of their smallest node. */
function stronglyConnected(nodes: readonly string[], next: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  // Iterative Tarjan: a 1,000-deep chain must not overflow the call stack.
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; child: number }> = [{ node: root, child: 0 }];
    index.set(root, counter);
    low.set(root, counter);
    counter++;
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame === undefined) break;
      const children = next.get(frame.node) ?? [];
      const child = children[frame.child];
      if (child !== undefined) {
        frame.child++;
        if (!index.has(child)) {
          index.set(child, counter);
          low.set(child, counter);
          counter++;
          stack.push(child);
          onStack.add(child);
          work.push({ node: child, child: 0 });
        } else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(child) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) {
        low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop();
          if (member === undefined) break;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        if (component.length > 1) components.push(component.sort());
      }
    }
  }
  return components.sort((a, b) => compare(a[0] ?? '', b[0] ?? ''));
}

/** The cycles of the graph (see the module comment), sorted. */
export function cyclesOf(nodes: readonly string[], next: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  for (const component of stronglyConnected(nodes, next)) {
    const inside = new Set(component);
    const covered = new Set<string>();
    for (const start of component) {
      // A member already on a listed cycle needs no cycle of its own (keeps big components linear-ish).
      if (covered.has(start)) continue;
      const cycle = shortestCycleThrough(start, next, inside);
      if (cycle === undefined) continue;
      for (const member of cycle) covered.add(member);
      const rotated = rotateToSmallest(cycle);
      cycles.set(rotated.join('\u0000'), rotated);
    }
  }
  return [...cycles.values()].sort(compareLists);
}

/** Breadth-first from `start` back to it, staying inside its component; neighbours in sorted order. */
function shortestCycleThrough(
  start: string,
  next: ReadonlyMap<string, readonly string[]>,
  inside: ReadonlySet<string>,
): string[] | undefined {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] ?? '';
    for (const child of next.get(node) ?? []) {
      if (!inside.has(child)) continue;
      if (child === start) {
        const path = [node];
        for (let at = node; at !== start;) {
          at = cameFrom.get(at) ?? start;
          path.push(at);
        }
        return path.reverse();
      }
      if (cameFrom.has(child)) continue;
      cameFrom.set(child, node);
      queue.push(child);
    }
  }
  return undefined;
}

function rotateToSmallest(cycle: string[]): string[] {
  let smallest = 0;
  cycle.forEach((node, i) => {
    if (compare(node, cycle[smallest] ?? '') < 0) smallest = i;
  });
  return [...cycle.slice(smallest), ...cycle.slice(0, smallest)];
}

/** Code-point order: the same on every machine, unlike localeCompare. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareLists(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compare(a[i] ?? '', b[i] ?? '');
    if (order !== 0) return order;
  }
  return a.length - b.length;
}
