export {
  type Buildroot,
  type BuildrootDist,
  type BuildrootRunOptions,
  type PreparedBuildroot,
  type RunLimits,
} from './types.ts';
export { chooseBuildroot } from './choose.ts';
export { createContainerBuildroot } from './container.ts';
export { createChrootBuildroot } from './chroot.ts';
export { HOST_WARNING } from './host.ts';

export { buildrootDist } from './dist.ts';
