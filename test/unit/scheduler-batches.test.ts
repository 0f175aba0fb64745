import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchesOf } from '../../scheduler/changes/batches.ts';
import { graphOf, type GraphNode, type SourceGraph } from '../../shared/sources/graph/index.ts';

function node(project: string, provides: string[], needs: string[]): GraphNode {
  return {
    project,
    dist: 'bookworm',
    arches: ['x86_64'],
    kind: 'deb',
    provides,
    needs: needs.map((name) => ({ relation: name, names: [name] })),
  };
}

const graph: SourceGraph = {
  dists: graphOf([
    node('projects/lib', ['libz-dev'], []),
    node('projects/mid', ['libmid-dev'], ['libz-dev']),
    node('projects/app', ['app'], ['libmid-dev']),
    node('projects/other', ['other'], []),
  ]),
  problems: [],
};

describe('watcher batches', () => {
  it('lists for each submitted package the submitted packages it needs directly', () => {
    const all = batchesOf(['projects/app', 'projects/mid', 'projects/lib', 'projects/other'], graph);
    assert.deepEqual(all.get('projects/app'), ['projects/mid']);
    assert.deepEqual(all.get('projects/mid'), ['projects/lib']);
    assert.equal(all.has('projects/lib'), false);
    assert.equal(all.has('projects/other'), false);
    const some = batchesOf(['projects/app', 'projects/lib'], graph);
    assert.equal(some.size, 0, 'mid is not submitted: app builds against the published mid');
  });

  it('a cycle is listed both ways (the scheduler reports it)', () => {
    const cyclic: SourceGraph = {
      dists: graphOf([node('projects/a', ['a'], ['b']), node('projects/b', ['b'], ['a'])]),
      problems: [],
    };
    const batches = batchesOf(['projects/a', 'projects/b'], cyclic);
    assert.deepEqual(batches.get('projects/a'), ['projects/b']);
    assert.deepEqual(batches.get('projects/b'), ['projects/a']);
  });
});
