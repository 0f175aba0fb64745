export {
  compareDebianVersions,
  parseDebianVersion,
  versionWithoutEpoch,
  type DebianVersion,
} from '../../shared/versions/debian-version.ts';
export {
  planAptRepository,
  poolDirectory,
  debFileName,
  type AptBinaryPackage,
  type AptSourcePackage,
  type AptPoolFile,
  type AptRepositoryPlan,
  type PlanAptRepositoryOptions,
} from './apt-plan.ts';
export { readDebPackage, readSourcePackage, parseControlParagraph } from './package-files.ts';
export { writeAptRepository, type WriteAptRepositoryOptions, type AptRepositoryResult } from './apt-repository.ts';
