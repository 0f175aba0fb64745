export {
  BUILD_PATHS,
  BUILDER_USER,
  BUILDROOT_KINDS,
  describeBase,
  type Buildroot,
  type BuildrootBase,
  type BuildrootDist,
  type BuildrootKind,
  type BuildrootLineListener,
  type BuildrootRunOptions,
  type BuildrootRunResult,
  type CacheOutcome,
  type DistBootstrap,
  type DistImage,
  type PreparedBuildroot,
  type PrepareOptions,
  type PrepareReport,
  type RunLimits,
} from './types.ts';
export { chooseBuildroot, chrootAvailability, type Availability, type ChooseBuildrootOptions } from './choose.ts';
export { createContainerBuildroot, BUILD_CONTAINER_LABEL, type ContainerBuildrootOptions } from './container.ts';
export { createChrootBuildroot, type ChrootBuildrootOptions } from './chroot.ts';
export { createHostBuildroot, HOST_WARNING } from './host.ts';
export { FORMAT_PACKAGES, planInstall, relationNames, type InstallPlan } from './install-plan.ts';
export { baseImageTag, depsImageTag, chrootTreeName } from './cache-keys.ts';
export { buildrootDist } from './dist.ts';
export { DEFAULT_RUN_LIMITS } from './run-settings.ts';
