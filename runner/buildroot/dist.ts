/** The one conversion of a dist definition (`dists/<name>.yml`) into what a buildroot needs of it. */
import type { DistSpec } from '../../shared/sources/index.ts';
import type { BuildrootDist } from './types.ts';

/** Pure: the dist's name, format, base and extra packages; nothing else of the definition. */
export function buildrootDist(dist: DistSpec): BuildrootDist {
  const { base } = dist;
  return {
    name: dist.name,
    format: dist.format,
    base:
      base.kind === 'image'
        ? { kind: 'image', image: base.image }
        : {
            kind: 'bootstrap',
            suite: base.suite,
            mirror: base.mirror,
            variant: base.variant,
            components: base.components,
          },
    packages: dist.packages,
  };
}
