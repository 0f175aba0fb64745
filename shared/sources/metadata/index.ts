export {
  loadPackage,
  projectPath,
  PACKAGE_FILE,
  CLOUD_BUILDER_FILE,
  type PackageSpec,
  type PackageTarget,
  type DistCache,
} from './package.ts';
export { listPackages, loadPackages, packagesOfDist, PROJECTS_DIR, type PackageScan } from './scan.ts';
export {
  loadDist,
  loadDistIfDefined,
  listDists,
  distFile,
  DISTS_DIR,
  DEFAULT_RUNNER_GROUP,
  DEFAULT_BOOTSTRAP_VARIANT,
  type DistSpec,
  type DebDist,
  type RpmDist,
  type DistBase,
  type AptRepository,
  type RpmRepository,
  type RepositoryKey,
  type OwnRepositories,
} from './dist.ts';
export type { PackageFiles } from './package-files.ts';
export { KIWI_ARG_OPTIONS, parseKiwiArgs, type KiwiArgs, type KiwiArgsProblem, type KiwiOption } from './kiwi-args.ts';
export {
  debianBuildDepends,
  debianArchOf,
  controlParagraphs,
  type DebianBuildDependsOptions,
} from './debian-build-depends.ts';
export { rpmBuildRequires } from './rpm-build-requires.ts';
export { parseYamlSource, type YamlSource } from './yaml-source.ts';
export {
  PackageFileSchema,
  CloudBuilderFileSchema,
  DistFileSchema,
  DistFormats,
  RebuildModes,
  BootstrapTools,
  NOOP_LIMITS,
  DOCKER_IMAGE_NAME_PATTERN,
  type DistFormat,
  type RebuildMode,
  type BootstrapTool,
} from './schemas.ts';
