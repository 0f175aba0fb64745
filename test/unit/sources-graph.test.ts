/**
 * The dependency graph (docs/graph.md): edges by name with the names that make them, cycles,
 * what each kind provides and needs read from real file texts, noop provides/needs, a whole
 * checkout with a broken package, and the per-commit cache.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createGraphCache,
  debianProvidesNeeds,
  dependantsOf,
  dependenciesOf,
  distGraphOf,
  dockerNeeds,
  graphOf,
  imageName,
  kiwiProvidesNeeds,
  loadSourceGraph,
  rpmProvidesNeeds,
  whyOf,
  type GraphNode,
  type SourceGraph,
} from '../../shared/sources/index.ts';

function node(project: string, provides: string[], needs: Array<string | string[]> = [], dist = 'd'): GraphNode {
  return {
    project,
    dist,
    arches: ['x86_64'],
    kind: 'noop',
    provides,
    needs: needs.map((need) =>
      typeof need === 'string' ? { relation: need, names: [need] } : { relation: need.join(' | '), names: need },
    ),
  };
}

describe('graphOf', () => {
  it('makes an edge where a need name is provided, carrying the names, sorted', () => {
    const [graph] = graphOf([
      node('p/app', ['app'], ['libfoo-dev', 'gcc', 'libbar-dev']),
      node('p/libfoo', ['libfoo1', 'libfoo-dev']),
      node('p/libbar', ['libbar-dev']),
    ]);
    assert.deepEqual(
      graph?.edges.map((e) => `${e.from}>${e.to}:${e.packages.join(',')}`),
      ['p/app>p/libbar:libbar-dev', 'p/app>p/libfoo:libfoo-dev'],
    );
    assert.deepEqual(
      graph?.nodes.map((n) => n.project),
      ['p/app', 'p/libbar', 'p/libfoo'],
    );
    assert.deepEqual(graph?.cycles, []);
  });

  it('edges by name: a versioned need still makes the edge; both alternatives count', () => {
    const versioned: GraphNode = {
      ...node('p/app', ['app']),
      needs: [
        { relation: 'libfoo-dev (>= 9)', names: ['libfoo-dev'] },
        { relation: 'libx-dev | liby-dev', names: ['libx-dev', 'liby-dev'] },
      ],
    };
    const graph = distGraphOf('d', [
      versioned,
      node('p/libfoo', ['libfoo-dev']),
      node('p/x', ['libx-dev']),
      node('p/y', ['liby-dev']),
    ]);
    assert.deepEqual(
      graph.edges.map((e) => e.to),
      ['p/libfoo', 'p/x', 'p/y'],
    );
  });

  it('a package never depends on itself, and other dists do not count', () => {
    const graphs = graphOf([node('p/gcc', ['gcc', 'cpp'], ['cpp']), node('p/app', ['app'], ['gcc'], 'other')]);
    assert.deepEqual(
      graphs.map((g) => [g.dist, g.edges.length]),
      [
        ['d', 0],
        ['other', 0],
      ],
    );
  });

  it('finds cycles of two and three once, starting at the smallest project', () => {
    const graph = distGraphOf('d', [
      node('p/b', ['b'], ['a']),
      node('p/a', ['a'], ['b']),
      node('p/z', ['z'], ['x']),
      node('p/x', ['x'], ['y']),
      node('p/y', ['y'], ['z']),
      node('p/free', ['free'], ['a']),
    ]);
    assert.deepEqual(graph.cycles, [
      ['p/a', 'p/b'],
      ['p/x', 'p/y', 'p/z'],
    ]);
    const why = whyOf([graph], 'p/free')[0];
    assert.deepEqual(why?.cycles, []);
    assert.deepEqual(whyOf([graph], 'p/y')[0]?.cycles, [['p/x', 'p/y', 'p/z']]);
  });

  it('a diamond has four edges and no cycle; dependencies and dependants', () => {
    const graphs = graphOf([
      node('p/top', ['top'], ['left', 'right']),
      node('p/left', ['left'], ['base']),
      node('p/right', ['right'], ['base']),
      node('p/base', ['base']),
    ]);
    assert.equal(graphs[0]?.edges.length, 4);
    assert.deepEqual(graphs[0]?.cycles, []);
    assert.deepEqual(
      dependantsOf(graphs, 'd', 'p/base').map((e) => e.from),
      ['p/left', 'p/right'],
    );
    assert.deepEqual(
      dependenciesOf(graphs, 'd', 'p/top').map((e) => e.to),
      ['p/left', 'p/right'],
    );
    const why = whyOf(graphs, 'p/left')[0];
    assert.deepEqual(
      why?.dependencies.map((e) => e.to),
      ['p/base'],
    );
    assert.deepEqual(
      why?.dependants.map((e) => e.from),
      ['p/top'],
    );
  });

  it('a 5,000-long chain does not overflow (iterative Tarjan)', () => {
    // p/i needs what p/(i-1) provides, and p/0 needs the last: one cycle through all 5,000.
    const nodes = Array.from({ length: 5000 }, (_, i) => node(`p/${i}`, [`n${i}`], [`n${(i + 4999) % 5000}`]));
    const graph = distGraphOf('d', nodes);
    assert.equal(graph.cycles.length, 1);
    assert.equal(graph.cycles[0]?.length, 5000);
  });
});

describe('what each kind provides and needs', () => {
  it('deb: Package and Provides names; Build-Depends, -Arch, -Indep by name, arch-restricted kept', () => {
    const control = [
      'Source: libbfgreet',
      'Build-Depends: debhelper-compat (= 13), libbar-dev (>= 1.2) [amd64] | libbaz-dev,',
      ' pkgconf <!nocheck>',
      'Build-Depends-Arch: libarch-dev [!amd64]',
      'Build-Depends-Indep: python3:any',
      '',
      'Package: libbfgreet1',
      'Architecture: any',
      'Provides: libgreet (= 1.0), greet-abi-1',
      'Depends: ${shlibs:Depends}',
      '',
      'Package: libbfgreet-dev',
      'Provides: ${misc:Provides}',
      '',
    ].join('\n');
    const { provides, needs } = debianProvidesNeeds(control);
    assert.deepEqual(provides, ['libbfgreet1', 'libgreet', 'greet-abi-1', 'libbfgreet-dev']);
    assert.deepEqual(
      needs.map((n) => n.names),
      [['debhelper-compat'], ['libbar-dev', 'libbaz-dev'], ['pkgconf'], ['libarch-dev'], ['python3']],
    );
    assert.equal(needs[1]?.relation, 'libbar-dev (>= 1.2) | libbaz-dev');
  });

  it('deb: a .dsc provides its Binary list', () => {
    const dsc = 'Format: 3.0 (quilt)\nSource: foo\nBinary: foo, libfoo-dev\nBuild-Depends: bar\n';
    assert.deepEqual(debianProvidesNeeds(dsc, 'foo.dsc').provides, ['foo', 'libfoo-dev']);
  });

  it('rpm: Name, %package (with and without -n), Provides; BuildRequires names', () => {
    const spec = [
      '%global soname 3',
      'Name: libgreet',
      'Version: 1.0',
      'Release: 1%{?dist}',
      'Provides: greet(abi) = %{soname}, libgreet%{soname}',
      'BuildRequires: gcc, make >= 4, pkgconfig(glib-2.0)',
      'BuildRequires: (python3-foo >= 2 or python3-bar)',
      '%description',
      'x',
      '%package devel',
      'Summary: headers',
      'Provides: %{name}-headers = %{version}',
      '%package -n greet-tools',
      'Summary: tools',
    ].join('\n');
    const { provides, needs } = rpmProvidesNeeds(spec);
    assert.deepEqual(provides, [
      'libgreet',
      'greet(abi)',
      'libgreet3',
      'libgreet-devel',
      'libgreet-headers',
      'greet-tools',
    ]);
    assert.deepEqual(
      needs.map((n) => n.names),
      [['gcc'], ['make'], ['pkgconfig(glib-2.0)'], ['python3-foo', 'python3-bar']],
    );
  });

  it('docker: FROM images without registry, tag, digest; stages, variables and scratch skipped', () => {
    const dockerfile = [
      'ARG BUILDFLEET_BASE_IMAGE',
      'FROM ${BUILDFLEET_BASE_IMAGE} AS base',
      'FROM --platform=linux/amd64 registry.example:5000/team/builder:1.2 AS build',
      'RUN make',
      'FROM build AS test',
      'FROM localhost/runtime@sha256:abcd',
      '# FROM commented/out',
      'FROM \\',
      '  docker.io/library/debian:bookworm',
      'FROM scratch',
    ].join('\n');
    assert.deepEqual(
      dockerNeeds(dockerfile).map((n) => n.names[0]),
      ['team/builder', 'runtime', 'debian'],
    );
    assert.equal(imageName('hello'), 'hello');
    assert.equal(imageName('team/hello:2'), 'team/hello');
  });

  it('kiwi: the image name provides, <package> names need; comments ignored', () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<image schemaversion="7.4" name="hello-kiwi">
  <preferences><type image="tbz"/></preferences>
  <repository type="apt-deb"><source path="http://deb.debian.org/debian"/></repository>
  <packages type="image"><package name="hello-deb"/><package name='coreutils'/><!-- <package name="old"/> --></packages>
  <packages type="bootstrap"><package name="bash"/></packages>
</image>`;
    const { provides, needs } = kiwiProvidesNeeds(xml);
    assert.deepEqual(provides, ['hello-kiwi']);
    assert.deepEqual(
      needs.map((n) => n.relation),
      ['hello-deb', 'coreutils', 'bash'],
    );
  });
});

describe('loadSourceGraph', () => {
  let root: string;
  const DIST = 'format: deb\nbase: { image: localhost/deb:1 }\n';
  const noop = (extra: string) =>
    `kind: noop\ntargets: [{ dist: d1, arch: x86_64 }, { dist: d1, arch: aarch64 }]\n${extra}`;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'bf-graph-'));
    const files: Record<string, string> = {
      'dists/d1.yml': DIST,
      'dists/d2.yml': DIST,
      'projects/lib/buildfleet.yml': noop('noop: { provides: [libfoo1, libfoo-dev] }\n'),
      'projects/app/buildfleet.yml': noop('noop: { needs: [libfoo-dev, gcc] }\n'),
      'projects/plain/buildfleet.yml': noop(''),
      'projects/broken/buildfleet.yml': 'kind: noop\ntargets: [{ dist: nowhere, arch: x86_64 }]\n',
      'projects/deb/buildfleet.yml': 'targets: [{ dist: d2, arch: x86_64 }]\n',
      'projects/deb/debian/control': 'Source: x\nBuild-Depends: libfoo-dev,\n\nPackage: x\n',
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('reads noop provides/needs (default: its name), arches, and reports broken packages', async () => {
    const graph = await loadSourceGraph(root);
    assert.deepEqual(
      graph.dists.map((d) => d.dist),
      ['d1', 'd2'],
    );
    const d1 = graph.dists[0];
    assert.deepEqual(d1?.edges, [{ dist: 'd1', from: 'projects/app', to: 'projects/lib', packages: ['libfoo-dev'] }]);
    assert.deepEqual(d1?.nodes.find((n) => n.project === 'projects/plain')?.provides, ['plain']);
    assert.deepEqual(d1?.nodes[0]?.arches, ['aarch64', 'x86_64']);
    // libfoo-dev is provided only in d1: the deb package of d2 has no edge.
    assert.deepEqual(graph.dists[1]?.edges, []);
    assert.equal(graph.problems.length, 1);
    assert.equal(graph.problems[0]?.project, 'projects/broken');
    assert.equal(graph.problems[0]?.code, 'metadata-invalid');
  });

  it('only the dists asked for; an unknown dist names the field', async () => {
    const graph = await loadSourceGraph(root, { dists: ['d2'] });
    assert.deepEqual(
      graph.dists.map((d) => d.dist),
      ['d2'],
    );
    await assert.rejects(loadSourceGraph(root, { dists: ['nope'] }), (error: Error & { context?: unknown }) => {
      assert.deepEqual((error as { context: { field: string } }).context.field, 'dist');
      return true;
    });
  });
});

describe('createGraphCache', () => {
  const empty: SourceGraph = { dists: [], problems: [] };

  it('computes once per commit, shares concurrent callers, forgets failures, drops the least recently used', async () => {
    const cache = createGraphCache({ max: 2 });
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return empty;
    };
    const [a, b] = await Promise.all([cache.get('c1', load), cache.get('c1', load)]);
    assert.equal(a, b);
    assert.equal(loads, 1);
    await assert.rejects(cache.get('bad', () => Promise.reject(new Error('boom'))));
    assert.deepEqual(cache.commits(), ['c1']);
    await cache.get('bad', load);
    assert.equal(loads, 2);
    await cache.get('c1', load);
    await cache.get('c3', load);
    assert.deepEqual(cache.commits(), ['c1', 'c3']);
    assert.equal(loads, 3);
  });
});
