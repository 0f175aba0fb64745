export { loadPackage, PACKAGE_FILE, CLOUD_BUILDER_FILE, type PackageSpec, type DistCache } from './package.ts';
export { listPackages, loadPackages, packagesOfDist } from './scan.ts';
export {
  loadDist,
  listDists,
  DISTS_DIR,
  type DistSpec,
  type DebDist,
  type RpmDist,
  type RepositoryKey,
} from './dist.ts';

export { parseKiwiArgs, type KiwiArgs } from './kiwi-args.ts';
export { debianBuildDepends, debianArchOf, controlParagraphs } from './debian-build-depends.ts';
export { rpmBuildRequires } from './rpm-build-requires.ts';

export { DOCKER_IMAGE_NAME_PATTERN } from './schemas.ts';
